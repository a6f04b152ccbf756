"""The engine every family trains and saves through: the estimator base, fit_loop, persistence, distributed
training and model cards.
"""
