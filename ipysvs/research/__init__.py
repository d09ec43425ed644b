"""The research layer: corpora, metrics, the simulation experiment and training.

``datasets`` (the MIR-1K layout), ``evaluation`` (BSS Eval, museval, melody metrics), ``experiments``
(Nakano et al.'s simulated corrections), ``training`` and ``augment`` (pretraining the pitch models),
``benchmarking`` (what the scripts in ``benchmarks/`` share). Its metric libraries are the optional extra
``research`` (``pip install -e ".[research]"``).
"""
