"""The language server (``assistant lsp``): the prediction engine for editors, over the Language Server Protocol.

The only layer that imports pygls; it uses the engine and the store, and nothing imports it but the command line.
"""
