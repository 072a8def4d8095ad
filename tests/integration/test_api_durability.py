"""kill -9 and restart: acknowledged writes survive, resourceVersions keep
increasing, and a watch from the last seen resourceVersion resumes."""
import http.client
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_api_server import ApiServer  # noqa: E402

CM = "/api/v1/namespaces/demo/configmaps"


def configmap(name):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"n": name}}


class DurabilityTest(unittest.TestCase):
    def setUp(self):
        self.server = ApiServer().start()

    def tearDown(self):
        self.server.cleanup()

    def open_watch(self, path):
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port,
                                           context=self.server.ssl_context(), timeout=20)
        conn.request("GET", path, headers={"Authorization": "Bearer " + self.server.token})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        return conn, resp

    def test_kill9_keeps_acknowledged_writes_and_watches_resume(self):
        s = self.server
        self.assertEqual(s.request("POST", "/api/v1/namespaces",
                                   {"metadata": {"name": "demo"}})[0], 201)
        acked = {}  # name -> resourceVersion of the 201 answer
        stop = threading.Event()

        def writer():
            i = 0
            while not stop.is_set():
                try:
                    status, body, _ = s.request("POST", CM, configmap(f"cm-{i}"), timeout=5)
                except Exception:
                    return  # the server died under us
                if status == 201:
                    acked[body["metadata"]["name"]] = int(body["metadata"]["resourceVersion"])
                i += 1

        def wait_acked(n):
            deadline = time.time() + 60
            while len(acked) < n and t.is_alive() and time.time() < deadline:
                time.sleep(0.01)
            self.assertGreaterEqual(len(acked), n, "the writer stalled")

        t = threading.Thread(target=writer)
        t.start()
        wait_acked(20)
        _, listed, _ = s.request("GET", CM)
        seen_rv = int(listed["metadata"]["resourceVersion"])
        wait_acked(len(acked) + 20)  # more writes after the listing
        s.kill9()  # while the writer is still writing
        stop.set()
        t.join()
        self.assertGreater(len(acked), 10)

        s.start()
        status, listed, _ = s.request("GET", CM)
        self.assertEqual(status, 200)
        stored = {i["metadata"]["name"]: int(i["metadata"]["resourceVersion"])
                  for i in listed["items"]}
        for name, rv in acked.items():
            self.assertEqual(stored.get(name), rv, f"acknowledged {name} lost after kill -9")
        max_rv = max(stored.values())

        # resourceVersions keep increasing after the restart.
        status, body, _ = s.request("POST", CM, configmap("after-restart"))
        self.assertEqual(status, 201)
        self.assertGreater(int(body["metadata"]["resourceVersion"]), max_rv)

        # A watch from the rv seen before the crash replays everything after it.
        conn, resp = self.open_watch(CM + f"?watch=true&resourceVersion={seen_rv}")
        expected = sorted((rv, n) for n, rv in stored.items() if rv > seen_rv)
        expected.append((int(body["metadata"]["resourceVersion"]), "after-restart"))
        got = []
        while len(got) < len(expected):
            event = json.loads(resp.readline())
            self.assertEqual(event["type"], "ADDED")
            got.append((int(event["object"]["metadata"]["resourceVersion"]),
                        event["object"]["metadata"]["name"]))
        self.assertEqual(got, expected)
        # ...and then keeps delivering live changes.
        self.assertEqual(s.request("DELETE", CM + "/after-restart")[0], 200)
        event = json.loads(resp.readline())
        self.assertEqual((event["type"], event["object"]["metadata"]["name"]),
                         ("DELETED", "after-restart"))
        conn.close()

    def test_watch_without_resource_version_starts_with_current_state(self):
        s = self.server
        s.request("POST", "/api/v1/namespaces", {"metadata": {"name": "demo"}})
        s.request("POST", CM, configmap("a"))
        s.request("POST", CM + "?dryRun=All", configmap("dry"))
        conn, resp = self.open_watch(CM + "?watch=1")
        event = json.loads(resp.readline())
        self.assertEqual((event["type"], event["object"]["metadata"]["name"]), ("ADDED", "a"))
        s.request("PATCH", CM + "/a", {"data": {"n": "b"}},
                  content_type="application/merge-patch+json")
        event = json.loads(resp.readline())
        self.assertEqual((event["type"], event["object"]["data"]["n"]), ("MODIFIED", "b"))
        conn.close()

    def test_label_selector_watch_sees_objects_enter_and_leave(self):
        s = self.server
        s.request("POST", "/api/v1/namespaces", {"metadata": {"name": "demo"}})
        s.request("POST", CM, configmap("a"))
        conn, resp = self.open_watch(CM + "?watch=true&labelSelector=app%3Dweb&resourceVersion="
                                     + s.request("GET", CM)[1]["metadata"]["resourceVersion"])
        merge = "application/merge-patch+json"
        s.request("PATCH", CM + "/a", {"metadata": {"labels": {"app": "web"}}}, content_type=merge)
        s.request("PATCH", CM + "/a", {"data": {"n": "2"}}, content_type=merge)
        s.request("PATCH", CM + "/a", {"metadata": {"labels": {"app": None}}}, content_type=merge)
        s.request("PATCH", CM + "/a", {"data": {"n": "3"}}, content_type=merge)  # not selected
        s.request("PATCH", CM + "/a", {"metadata": {"labels": {"app": "web"}}}, content_type=merge)
        types = [json.loads(resp.readline())["type"] for _ in range(4)]
        self.assertEqual(types, ["ADDED", "MODIFIED", "DELETED", "ADDED"])
        conn.close()


if __name__ == "__main__":
    unittest.main()
