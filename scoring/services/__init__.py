"""The scoring app's business rules (writes), one module per sub-domain:

- `registry`: registering a trained model as a version, promoting and rolling back;
- `predictions`: scoring an application or bare inputs and storing the audit record;
- `decisions`: deciding, reopening, recording what really happened;
- `uploads`: the checks every uploaded CSV passes;
- `datasets`: training datasets (uploads, their validation, exports of outcomes);
- `training`: retraining jobs, the comparison with production, auto-promotion, schedules;
- `bulk_scoring` and `bulk_chunks`: bulk scoring jobs, and what one chunk of them stores;
- `recovery`: queueing again the work whose worker died.

How a job is claimed, kept alive, worked through in chunks and recovered is the job
machinery's (`scoring/jobs/`), which knows nothing of credit.
"""
