"""The trusted judge: draws the run's cases, runs the answer key on them, decides every point.

It runs in the grader's own process and never executes student code. What comes back from a
student's sandbox is plain data (``cnncourse.probe``), decoded with checked types and sizes and
compared with what the answer key returned for the same inputs, by the item definitions of
``cnncourse.problemsets``. A re-grade with the same seed draws the same cases.
"""

from cnncourse import probe, problemsets


class KeyFailure(RuntimeError):
    """The answer key itself fails a case: the run stops before any student is graded."""


class Judge:
    def __init__(self, assignment, seed, test_cells):
        self.module = problemsets.load(assignment)
        self.seed = seed
        missing = sorted(set(test_cells) - set(self.module.ITEMS))
        if missing:
            raise SystemExit(f"{assignment}: no graded item in cnncourse.problemsets.{assignment} for the "
                             f"test cells {missing}")
        self.items = [self.module.ITEMS[g] for g in test_cells]
        self.cases = {item.grade_id: problemsets.draw(item, seed, index) for index, item in enumerate(self.items)}
        self.want = None

    def probes(self):
        """Every case of the run, as the sandbox may see it (secrets stripped), in a fixed order."""
        return [problemsets.public(c) for item in self.items for c in self.cases[item.grade_id]]

    def _split(self, results):
        out, start = {}, 0
        for item in self.items:
            n = len(self.cases[item.grade_id])
            out[item.grade_id] = results[start:start + n]
            start += n
        return out

    def learn_key(self, reply):
        """Keep the answer key's results; ``KeyFailure`` unless every case has a value."""
        if reply.get("status") != "ok" or reply.get("probes") is None:
            raise KeyFailure(f"the answer key did not run: {reply.get('status')}: {reply.get('reason')} "
                             f"{reply.get('log', '')[-500:]}")
        errors = [f"{output.get('ename')}: {output.get('evalue')}" for cell in reply["cells"]
                  for output in cell["outputs"] if output.get("output_type") == "error"]
        if errors:
            raise KeyFailure(f"a cell of the answer key raised {errors[0]}")
        want = {}
        for gid, results in self._split(reply["probes"]).items():
            for case, result in zip(self.cases[gid], results):
                if "value" not in result:
                    raise KeyFailure(f"the answer key fails {gid}, case {case['name']}: {result}")
            want[gid] = [probe.decode(r["value"]) for r in results]
        self.want = want

    def verdicts(self, reply):
        """{grade id: (points, message)} for one student's sandbox reply."""
        if reply.get("probes") is None:
            why = reply.get("reason") or reply.get("status")
            return {item.grade_id: (0.0, f"not judged: the notebook stopped before the judge's calls ({why})")
                    for item in self.items}
        if len(reply["probes"]) != sum(len(c) for c in self.cases.values()):
            return {item.grade_id: (0.0, "not judged: a malformed reply") for item in self.items}
        got = self._split(reply["probes"])
        return {item.grade_id: problemsets.verdict(item, self.cases[item.grade_id], got[item.grade_id],
                                                   self.want[item.grade_id]) for item in self.items}
