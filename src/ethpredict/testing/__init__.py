"""Support for tests and benchmarks: references and data builders."""
