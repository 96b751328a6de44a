"""coldchain-optimizer: cold-chain and last-mile logistics planning for mountain townships."""

__version__ = "0.1.0"
