"""E-mail notifications: who is told of what (``recipients``), in their language
(``catalogs``, ``messages``), written to the outbox in the transaction of the change they
tell of (``outbox``), and sent over SMTP by the workers (``smtp``,
``engine/services/mail.py``)."""
