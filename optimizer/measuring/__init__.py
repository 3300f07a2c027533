"""Measuring a ``.tflite`` with LiteRT alone: its facts, its accuracy, its latency.

Nothing here imports TensorFlow: ``facts`` reads the flatbuffer, ``accuracy`` runs the LiteRT
interpreter, ``latency`` times invokes in a separate LiteRT-only process.
"""
