"""Models and data: the built-in demos, user uploads (checked safely), the dataset splits and
``resolve.resolve_model`` turning a reference (demo name, file, upload manifest) into a bundle.

Light on import: TensorFlow loads only inside the functions that build or load a model.
"""
