"""What a run leaves on disk and how its processes talk: run folders, results, recipes,
progress events and the job file a worker reads. Below the engine and the runs, so both use it.
"""
