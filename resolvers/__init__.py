"""The domain's operations: plain async functions over models, called by every interface."""
