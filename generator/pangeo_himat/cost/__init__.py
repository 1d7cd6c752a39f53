"""Cost: the monthly estimate and a week's cost under each idle policy. Imports `settings`, `fit`
and `render`.
"""
