"""Helpers shared by the app's pages: session state, navigation, layout and run control.

Pages import from here and from the ``optimizer`` package only; nothing here imports
TensorFlow. (With ``st.navigation`` the files in ``pages/`` are not auto-registered, so this
helper package can live beside the page scripts.)
"""
