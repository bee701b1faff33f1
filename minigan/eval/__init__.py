"""Judging a GAN: mode metrics on the toy mixtures and the image metrics
(Inception Score, Frechet distance, class accuracy, nearest neighbours) in
``metrics``; precision, recall, density and coverage in ``manifold``; the
evaluator classifiers that see MNIST for them (two judges, shipped with their
weights) and a run's report in ``evaluate``; G's samples as pixels in ``pixels``.
"""
