# -*- Python -*-
# Runs every GoogleTest binary named *Tests under build/unittests; each
# gtest case is one lit test.

import lit.formats

config.name = "nlc-unit"
config.suffixes = []
config.test_source_root = config.unit_test_dir
config.test_exec_root = config.unit_test_dir
config.test_format = lit.formats.GoogleTest(".", "Tests")
