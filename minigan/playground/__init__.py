"""The live page: GAN training on 2-D data, watched and steered in a browser.

``python -m minigan playground`` serves it on 127.0.0.1 (``server.py``); each tab
gets its own run (``session.py``: settings, Trainer, a training thread); what the
page draws is computed by the library (``views.py``), and the page itself is three
static files (``static/``: HTML, JavaScript, CSS; no build step, no network).
"""
