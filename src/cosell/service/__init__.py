"""The service layer: each use case of cosell, and the transaction it runs in.

The command line (:mod:`cosell.cli`) and the HTTP service call these functions; they call the
capabilities (attribution, hygiene, metrics, pay, reports) and the store, and own each use case's
transaction, so a use case is all or nothing whoever asks for it.
"""
