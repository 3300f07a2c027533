"""The guide's knowledge: techniques, targets, configs, goals and the result schema.

The bottom layer of the library (after ``compat``, ``paths`` and ``lazy``): pure Python, no
TensorFlow, imported by everything above it. Nothing here is a measurement.
"""
