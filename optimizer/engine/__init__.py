"""The TensorFlow side of the optimizer: conversion, quantization, evaluation and retraining.

Modules here import TensorFlow, tf_keras, TFMOT and the LiteRT Quantizer lazily, through
``optimizer.compat`` and only inside functions, and run in job subprocesses (a long-lived
process doing every technique grows to many GB). ``convert`` is the only user of
``TFLiteConverter``; ``quantizer`` applies LiteRT Quantizer recipes to a float ``.tflite``;
``evaluate`` measures a ``.tflite`` through the LiteRT interpreter. Importing this package
imports nothing heavy.
"""
