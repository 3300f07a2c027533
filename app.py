"""Entry point: page config, session defaults and navigation only."""
import streamlit as st

st.set_page_config(page_title="LiteRT Optimization Studio", layout="wide")
st.title("LiteRT Optimization Studio")
st.write("The app is being built; see README.md.")
