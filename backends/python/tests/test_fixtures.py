"""The golden fixtures, replayed against the backend's own protocol server
(serve_client on a loopback socket, no database), one test per file."""

import asyncio
import glob
import os
import unittest

from backend import __main__ as server

from . import fixtures


class GoldenFixtures(unittest.TestCase):
    def test_every_fixture_file_is_here(self):
        names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(fixtures.fixtures_dir(), "*.jsonl")))
        for want in ("handshake.jsonl", "params.jsonl", "values.jsonl", "values_malformed.jsonl",
                     "objects.jsonl", "oversize.jsonl"):
            self.assertIn(want, names)


def _replay_file(path):
    async def run():
        srv = await server.start_server("127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        try:
            return await fixtures.replay("127.0.0.1", port, fixtures.load(path), os.path.basename(path))
        finally:
            srv.close()
            await srv.wait_closed()

    def test(self):
        failures = asyncio.run(run())
        self.assertEqual(failures, [], "\n" + "\n".join(failures))
    return test


for _p in sorted(glob.glob(os.path.join(fixtures.fixtures_dir(), "*.jsonl"))):
    setattr(GoldenFixtures, "test_" + os.path.basename(_p).removesuffix(".jsonl"), _replay_file(_p))


class MatchRules(unittest.TestCase):
    """The replayer's matcher can fail (the same cases as Go's TestMatch)."""

    def test_rules(self):
        import json
        cases = [
            ('{"v":2.0}', '{"v":2}', False),
            ('{"v":2}', '{"v":2.0}', False),
            ('{"v":1e300}', '{"v":1.0E300}', True),
            ('{"v":-0.0}', '{"v":0.0}', False),
            ('{"v":null}', '{"v":"null"}', False),
            ('{"v":true}', '{"v":1}', False),
            ('{"v":1}', '{"v":true}', False),
            ('{"id":1,"result":{}}', '{"id":1,"result":{},"x":1}', False),
            ('{"id":1,"result":"<any>"}', '{"id":1,"result":{"a":[1]}}', True),
            ('{"a":"<absent-or-any>"}', '{}', True),
            ('{"id":1,"error":{"category":"misuse","sqlstate":"","message":"<any>"}}',
             '{"id":1,"error":{"category":"misuse","sqlstate":"","message":"m","type":"KeyError"}}', True),
            ('{"id":1,"result":{"type":1}}', '{"id":1,"result":{"type":1,"x":2}}', False),
        ]
        for p, r, ok in cases:
            with self.subTest(pattern=p, response=r):
                self.assertEqual(fixtures.match(json.loads(p), json.loads(r)) is None, ok)
