"""The language server (``assistant lsp``): the prediction engine for editors, over the Language Server Protocol.

The only layer that imports pygls; it goes through the service layer (the user's space and its predictors), and
nothing imports it but the command line.
"""
