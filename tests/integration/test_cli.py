"""The stash binary's basic contract: version, help, exit codes."""
import re
import unittest

from helpers import stash


class CliTest(unittest.TestCase):
    def test_version_prints_version_and_commit(self):
        r = stash("version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^stash \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?|unknown\)")

    def test_help_lists_commands_and_exit_codes(self):
        r = stash("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("version", r.stdout)
        self.assertIn("Exit codes", r.stdout)
        for code in ("0", "1", "2", "3"):
            self.assertRegex(r.stdout, rf"\n\s+{code}\s+\S")

    def test_unknown_command_is_usage_error(self):
        r = stash("no-such-command")
        self.assertEqual(r.returncode, 2)
        self.assertIn("stash --help", r.stderr)

    def test_bad_log_level_names_the_flag(self):
        r = stash("--log-level", "loud", "version")
        self.assertEqual(r.returncode, 2)
        self.assertIn("log level", r.stderr)


if __name__ == "__main__":
    unittest.main()
