"""The service layer: each use case of cosell, and the transaction it runs in.

The command line (:mod:`cosell.cli`) and the HTTP service call these functions; they call the
capabilities (attribution, hygiene, metrics, pay, reports) and the store, and own each use case's
transaction, so a use case is all or nothing whoever asks for it. A function takes the open
:class:`~cosell.service.workspace.Workspace` (or opens one where that is the use case), the acting
user and the reason where a write is recorded, and returns typed values: it never prints, and
knows no terminal and no command line.

One module per use case or small group: :mod:`~cosell.service.workspace`,
:mod:`~cosell.service.imports`, :mod:`~cosell.service.attribution`, :mod:`~cosell.service.gate`,
:mod:`~cosell.service.prompts`, :mod:`~cosell.service.reconcile`, :mod:`~cosell.service.disputes`,
:mod:`~cosell.service.pay`, :mod:`~cosell.service.plans`, :mod:`~cosell.service.reports`,
:mod:`~cosell.service.users` and :mod:`~cosell.service.demo`.
"""
