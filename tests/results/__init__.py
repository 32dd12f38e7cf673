"""Tests of the results layer."""
