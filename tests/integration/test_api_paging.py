"""Large lists in pages (kubectl --chunk-size, python3-kubernetes limit/_continue),
watch bookmarks, and field selectors the apiserver does not support."""
import os
import sys

if __name__ == "__main__" and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
    # python3-kubernetes is a Debian package: it lives in the system python.
    os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])

import threading  # noqa: E402
import time  # noqa: E402
import unittest  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from kubernetes import client, config, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api_server import ApiServer  # noqa: E402

NS = "paging"
COUNT = 1200


def names_of(items):
    return [i.metadata.name for i in items]


class PagingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ApiServer().start()
        cls.connect()
        cls.core.create_namespace({"metadata": {"name": NS}})
        started = time.time()

        def create(chunk):
            api = client.CoreV1Api(config.new_client_from_config(config_file=cls.server.kubeconfig))
            for i in chunk:
                api.create_namespaced_config_map(NS, {"metadata": {"name": f"cm-{i:04d}"},
                                                      "data": {"i": str(i)}})
            api.api_client.close()

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(create, [range(k, COUNT, 4) for k in range(4)]))
        print(f"created {COUNT} ConfigMaps in {time.time() - started:.1f} s", file=sys.stderr)
        cls.expected = [f"cm-{i:04d}" for i in range(COUNT)]

    @classmethod
    def connect(cls):
        cls.api_client = config.new_client_from_config(config_file=cls.server.kubeconfig)
        cls.core = client.CoreV1Api(cls.api_client)

    @classmethod
    def tearDownClass(cls):
        cls.api_client.close()
        cls.server.cleanup()

    def test_kubectl_chunk_size(self):
        r = self.server.kubectl("get", "cm", "-n", NS, "--chunk-size=100", "-o", "name", "-v=6")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = [line.removeprefix("configmap/") for line in r.stdout.split()]
        got = [n for n in got if n.startswith("cm-")]
        self.assertEqual(got, self.expected)  # each once, in order
        gets = [line for line in r.stderr.splitlines()
                if "GET https://" in line and "/configmaps?" in line and "limit=100" in line]
        self.assertEqual(len(gets), COUNT // 100, r.stderr[-2000:])
        self.assertEqual(sum("continue=" in line for line in gets), COUNT // 100 - 1)

        # kubectl's default chunk size (500) and its table output page too.
        r = self.server.kubectl("get", "cm", "-n", NS, "--no-headers")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(line.split()[0] for line in r.stdout.splitlines()
                                if line.startswith("cm-")), self.expected)

    def test_python_limit_continue_is_consistent(self):
        first = self.core.list_namespaced_config_map(NS, limit=100)
        self.assertEqual(len(first.items), 100)
        self.assertEqual(first.metadata.remaining_item_count, COUNT - 100)
        rv = first.metadata.resource_version
        # Writes between pages: the pages still show the list as of the first.
        self.core.create_namespaced_config_map(NS, {"metadata": {"name": "cm-9999"}})
        self.core.delete_namespaced_config_map("cm-1100", NS)
        try:
            seen = names_of(first.items)
            cont = first.metadata._continue
            pages = 1
            while cont:
                page = self.core.list_namespaced_config_map(NS, limit=100, _continue=cont)
                self.assertEqual(page.metadata.resource_version, rv)
                self.assertLessEqual(len(page.items), 100)
                seen += names_of(page.items)
                cont = page.metadata._continue
                pages += 1
            self.assertEqual(pages, COUNT // 100)
            self.assertEqual(seen, self.expected)
            for item in first.items:
                self.assertLessEqual(int(item.metadata.resource_version), int(rv))
        finally:
            self.core.delete_namespaced_config_map("cm-9999", NS)
            self.core.create_namespaced_config_map(NS, {"metadata": {"name": "cm-1100"},
                                                        "data": {"i": "1100"}})

    def test_selectors_page_too(self):
        got, cont = [], None
        while True:
            page = self.core.list_namespaced_config_map(
                NS, limit=7, _continue=cont, field_selector="metadata.name!=cm-0003")
            self.assertIsNone(page.metadata.remaining_item_count)  # unknown with selectors
            got += names_of(page.items)
            cont = page.metadata._continue
            if not cont:
                break
        self.assertEqual(got, [n for n in self.expected if n != "cm-0003"])

    def test_bad_continue_token(self):
        with self.assertRaises(ApiException) as ctx:
            self.core.list_namespaced_config_map(NS, limit=10, _continue="bm90IGEgdG9rZW4=")
        self.assertEqual(ctx.exception.status, 400)
        self.assertIn("invalid continue token", ctx.exception.body)

    def test_unsupported_field_label(self):
        r = self.server.kubectl("get", "events", "-n", NS, "--field-selector", "foo=bar")
        self.assertEqual(r.returncode, 1)
        self.assertIn("(BadRequest)", r.stderr)
        self.assertIn("field label not supported: foo", r.stderr)
        r = self.server.kubectl("get", "events", "-n", NS, "--field-selector",
                                "involvedObject.kind=Pod,type=Warning,reason=Failed")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.kubectl("get", "pods", "-A", "--field-selector",
                                "spec.nodeName=n1,status.phase!=Running")
        self.assertEqual(r.returncode, 0, r.stderr)
        with self.assertRaises(ApiException) as ctx:
            self.core.list_namespaced_config_map(NS, field_selector="data.i=1")
        self.assertEqual(ctx.exception.status, 400)
        self.assertIn("field label not supported: data.i", ctx.exception.body)
        with self.assertRaises(ApiException) as ctx:
            client.CustomObjectsApi(self.api_client).list_namespaced_custom_object(
                "stash.appscode.com", "v1beta1", NS, "backupconfigurations",
                field_selector="spec.paused=true")
        self.assertEqual(ctx.exception.status, 400)

    def test_watch_bookmarks(self):
        rv = self.core.list_namespaced_config_map(NS, limit=1).metadata.resource_version
        events = []

        def add_one():
            time.sleep(0.5)
            self.core.create_namespaced_config_map(NS, {"metadata": {"name": "cm-bookmarked"}})

        t = threading.Thread(target=add_one)
        t.start()
        started = time.time()
        try:
            for e in watch.Watch().stream(self.core.list_namespaced_config_map, NS,
                                          resource_version=rv, allow_watch_bookmarks=True,
                                          timeout_seconds=4):
                events.append((e["type"], e["raw_object"]["metadata"]["resourceVersion"],
                               time.time() - started))
        finally:
            t.join()
            self.core.delete_namespaced_config_map("cm-bookmarked", NS)
        types = [e[0] for e in events]
        self.assertEqual(types, ["ADDED", "BOOKMARK"], events)
        added_rv, bookmark_rv = int(events[0][1]), int(events[1][1])
        self.assertGreaterEqual(bookmark_rv, added_rv)
        self.assertGreater(events[1][2], 1.0)  # 2 s before the 4 s timeout, not at once
        # Without allowWatchBookmarks there are none.
        plain = [e["type"] for e in watch.Watch().stream(
            self.core.list_namespaced_config_map, NS, resource_version=str(bookmark_rv),
            timeout_seconds=3)]
        self.assertNotIn("BOOKMARK", plain)

    def test_zz_continue_after_restart_is_410_then_inconsistent(self):
        first = self.core.list_namespaced_config_map(NS, limit=500)
        self.server.stop()
        self.server.start()
        self.api_client.close()
        self.connect()
        self.core.create_namespaced_config_map(NS, {"metadata": {"name": "cm-after-restart"}})
        with self.assertRaises(ApiException) as ctx:
            self.core.list_namespaced_config_map(NS, limit=500, _continue=first.metadata._continue)
        self.assertEqual(ctx.exception.status, 410)
        import json
        status = json.loads(ctx.exception.body)
        self.assertEqual(status["reason"], "Expired")
        rest, cont = [], status["metadata"]["continue"]
        while cont:
            page = self.core.list_namespaced_config_map(NS, limit=500, _continue=cont)
            rest += names_of(page.items)
            cont = page.metadata._continue
        self.assertEqual(names_of(first.items) + rest, self.expected + ["cm-after-restart"])


if __name__ == "__main__":
    unittest.main()
