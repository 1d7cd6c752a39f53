"""Read and validate: the settings file, its line map, the JSON Schema, the rules, and the data
they check against (instance catalog, regions, Kubernetes version calendar).

The bottom of the pipeline: nothing here imports another stage package.
"""
