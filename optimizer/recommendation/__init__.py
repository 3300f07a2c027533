"""The recommendation: the guide's decision trees as data and the rules that walk them.

``decide.recommend(answers)`` is a pure function; ``rules`` holds the hardware and data rules
derived from the technique and target tables. Imports only ``optimizer.guide``.
"""
