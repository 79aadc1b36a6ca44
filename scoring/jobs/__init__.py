"""The machinery of background jobs, with no business rule: it says *how* a job row is
queued, claimed, kept alive, finished, cancelled and recovered (`lifecycle`, `recovery`),
how a large file is worked through in chunks by forked processes and committed in order
(`pipeline`), and how many rows reach the database in one statement (`bulk_insert`).

What a job does (train a scorecard, score a file) is a service of `scoring/services/`.
"""
