//! An in-process fake Kubernetes API server for the operator's scenario tests.
