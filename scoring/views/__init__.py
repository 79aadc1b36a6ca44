"""Portal pages of the scoring app, by sub-domain: `applications` (score, decide, reopen,
outcome, the result page), `registry` (models, promotion), `bulk` (bulk scoring jobs),
`training` (training data, retraining jobs, job settings)."""
