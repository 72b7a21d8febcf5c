"""Direct workflows on the pure engine: transitions, data flow, engine commands."""

from __future__ import annotations

from meltemi.engine import ActionResult, State
from tests.unit.engine.sim import Simulator, task, tasks


def test_linear_chain_publishes_and_outputs() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input:
    - name
    - greeting: Hello
  tasks:
    t1:
      action: std.echo output="<% $.greeting %>, <% $.name %>"
      publish:
        first: <% task().result %>
      on-success: t2
    t2:
      action: std.echo
      input:
        output: <% $.first %>!
      publish:
        second: <% task().result %>
  output:
    message: <% $.second %>
""")
    state = sim.execute("wf", {"name": "Ann"})
    assert state.workflow.state is State.SUCCESS
    assert state.workflow.output == {"message": "Hello, Ann!"}
    assert tasks(state) == [("t1", "SUCCESS"), ("t2", "SUCCESS")]
    assert task(state, "t2").published == {"second": "Hello, Ann!"}


def test_output_defaults_to_published_context_of_end_tasks() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input: [x]
  tasks:
    a:
      action: std.noop
      publish: {p: 1}
      on-success: [b, c]
    b:
      publish: {q: 2}
    c:
      publish: {r: 3}
""")
    state = sim.execute("wf", {"x": 0})
    assert state.workflow.output == {"p": 1, "q": 2, "r": 3}


def test_on_error_handles_failure_and_workflow_succeeds() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.fail
      on-error: handler
      on-success: never
    handler:
      action: std.echo output="handled"
      publish:
        why: <% task(t1).state_info %>
    never:
      action: std.noop
""")
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    assert tasks(state) == [("t1", "ERROR"), ("handler", "SUCCESS")]
    assert task(state, "t1").error_handled
    assert task(state, "handler").published == {"why": "Fail action expected exception."}


def test_unhandled_error_fails_with_plain_message_and_output_on_error() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.fail error_data="disk full"
      publish-on-error:
        code: 507
      on-complete: cleanup
    cleanup:
      action: std.noop
  output-on-error:
    code: <% $.code %>
""")
    state = sim.execute("wf")
    wf = state.workflow
    assert wf.state is State.ERROR
    assert wf.state_info is not None
    assert "t1 -> disk full" in wf.state_info
    assert "Traceback" not in wf.state_info
    assert wf.output == {"result": wf.state_info, "code": 507}
    assert tasks(state) == [("t1", "ERROR"), ("cleanup", "SUCCESS")]


def test_long_state_info_is_trimmed_but_the_output_keeps_the_message() -> None:
    """Mistral cuts a state_info longer than 65500 characters (adding "..."); the
    failed workflow's output ``result`` is not cut to that size."""
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.fail
""")
    sim.actions["std.fail"] = lambda inp: ActionResult(error="A" * 80000)
    state = sim.execute("wf")
    wf = state.workflow
    info = task(state, "t1").state_info
    assert info is not None
    assert len(info) == 65503
    assert info.endswith("A...")
    assert wf.state_info is not None
    assert len(wf.state_info) == 65503
    assert isinstance(wf.output, dict)
    assert len(wf.output["result"]) > 65503
    runs = [r for r in state.runs.values() if r.task_execution_id == task(state, "t1").id]
    assert all(r.state_info is None or len(r.state_info) <= 65503 for r in runs)


def test_failed_workflow_output_keeps_what_the_finished_paths_published() -> None:
    # Mistral 23.0.0: without output-on-error, a failed workflow's output is its final
    # context (the end tasks' outbound contexts) updated over {"result": state_info}.
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    a:
      action: std.echo output=1
      publish: {x: 1}
    b:
      action: std.fail
      publish-on-error: {e: 2}
    c:
      action: std.echo output=3
      publish: {z: 3}
      on-success: d
    d:
      action: std.noop
stop:
  tasks:
    a:
      action: std.echo output=1
      publish: {x: 1}
      on-success:
        - fail msg="stopped here"
mine:
  tasks:
    a:
      action: std.echo output=1
      publish: {result: mine}
      on-success: b
    b:
      action: std.fail
""")
    wf = sim.execute("wf").workflow
    assert wf.state is State.ERROR
    assert wf.output == {"result": wf.state_info, "x": 1, "e": 2, "z": 3}
    stopped = sim.execute("stop").workflow
    assert stopped.output == {"result": "stopped here", "x": 1}
    # a published `result` wins over the message, as in Mistral
    assert sim.execute("mine").workflow.output == {"result": "mine"}


def test_a_transition_that_cannot_be_evaluated_fails_the_task_and_the_workflow() -> None:
    # Mistral 23.0.0 force-fails the task (ERROR), then the workflow, with the reason.
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    task1:
      action: std.noop
      on-success:
        - task2: <% $.foobar %>
      on-error: handler
    task2:
      action: std.noop
    handler:
      action: std.noop
""")
    state = sim.execute("wf")
    wf = state.workflow
    assert wf.state is State.ERROR
    assert tasks(state) == [("task1", "ERROR")]
    info = task(state, "task1").state_info or ""
    assert "Failed to evaluate the transitions of task 'task1'" in info
    assert "foobar" in info
    assert wf.state_info == info


def test_conditional_transitions_fork() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input: [n]
  tasks:
    check:
      action: std.echo output=<% $.n %>
      publish: {n2: <% task().result * 2 %>}
      on-success:
        - small: <% $.n2 < 10 %>
        - big: <% $.n2 >= 10 %>
        - always
    small:
      action: std.noop
    big:
      action: std.noop
    always:
      action: std.noop
""")
    assert [n for n, _ in tasks(sim.execute("wf", {"n": 3}))] == ["check", "small", "always"]
    assert [n for n, _ in tasks(sim.execute("wf", {"n": 7}))] == ["check", "big", "always"]


def test_engine_commands_fail_succeed_with_msg() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
failing:
  input: [v]
  tasks:
    t1:
      action: std.echo output=<% $.v %>
      on-success:
        - fail(msg="bad value <% $.v %>"): <% task().result = 'bad' %>
        - succeed msg="all good": <% task().result = 'good' %>
        - t2
    t2:
      action: std.noop
""")
    bad = sim.execute("failing", {"v": "bad"})
    assert bad.workflow.state is State.ERROR
    assert bad.workflow.state_info == "bad value bad"
    assert tasks(bad) == [("t1", "SUCCESS")]
    good = sim.execute("failing", {"v": "good"})
    assert good.workflow.state is State.SUCCESS
    assert good.workflow.state_info == "all good"
    other = sim.execute("failing", {"v": "x"})
    assert tasks(other) == [("t1", "SUCCESS"), ("t2", "SUCCESS")]


def test_fail_command_msg_object_and_missing_msg() -> None:
    """Mistral stores an object ``msg`` as JSON text in the state_info while the output's
    ``result`` holds it as Python text; a ``fail`` without ``msg`` leaves both empty."""
    sim = Simulator.from_yaml("""
version: '2.0'
with_object:
  tasks:
    t1:
      action: std.echo
      input:
        output: {abc0: pqr}
      on-success:
        - fail msg=<% task().result %>
without_msg:
  tasks:
    t1:
      action: std.noop
      on-success:
        - fail
""")
    obj = sim.execute("with_object")
    assert obj.workflow.state is State.ERROR
    assert obj.workflow.state_info == '{"abc0": "pqr"}'
    assert obj.workflow.output == {"result": "{'abc0': 'pqr'}"}
    bare = sim.execute("without_msg")
    assert bare.workflow.state is State.ERROR
    assert bare.workflow.state_info is None
    assert bare.workflow.output == {"result": None}


def test_pause_command_holds_later_tasks_until_resume() -> None:
    """Mistral keeps the transitions after a 'pause' command in a backlog: the tasks
    they lead to (joins too) do not exist while the workflow is paused, and are
    created when it resumes; tasks before the command start at once."""
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      on-success:
        - t0
        - pause
        - t2
        - j
    t0:
      action: std.noop
    t2:
      action: std.noop
      on-success: j
    j:
      join: all
""")
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    assert state.workflow.state is State.PAUSED
    assert tasks(state) == [("t1", "SUCCESS"), ("t0", "SUCCESS")]
    from meltemi.engine import ResumeRequested

    sim.send(wf_id, ResumeRequested())
    sim.run()
    assert state.workflow.state is State.SUCCESS
    assert sorted(tasks(state)) == [
        ("j", "SUCCESS"),
        ("t0", "SUCCESS"),
        ("t1", "SUCCESS"),
        ("t2", "SUCCESS"),
    ]
    assert task(state, "j").triggered_by[0].task_id == task(state, "t1").id


def test_resume_ignores_pause_commands_of_tasks_that_finished_while_paused() -> None:
    """Mistral drops the 'pause' commands of the tasks that finished during the pause
    when the workflow resumes; it does not pause again."""
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    task1:
      action: std.echo output=1
      on-complete:
        - task3
        - pause
    task2:
      action: std.echo output=2
      on-complete:
        - pause
    task3:
      action: std.echo output=3
""")
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    assert state.workflow.state is State.PAUSED
    from meltemi.engine import ResumeRequested

    sim.send(wf_id, ResumeRequested())
    sim.run()
    assert state.workflow.state is State.SUCCESS
    assert sorted(tasks(state)) == [
        ("task1", "SUCCESS"),
        ("task2", "SUCCESS"),
        ("task3", "SUCCESS"),
    ]


def test_engine_command_after_a_pause_command_waits_for_the_resume() -> None:
    """Mistral's backlog holds engine commands after a 'pause' command too: a 'fail'
    after it fails the workflow only once it resumes."""
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      on-success:
        - pause
        - fail msg="stopped <% 1 + 1 %>"
""")
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    assert state.workflow.state is State.PAUSED
    from meltemi.engine import ResumeRequested

    sim.send(wf_id, ResumeRequested())
    sim.run()
    assert state.workflow.state is State.ERROR
    assert state.workflow.state_info == "stopped 2"
    assert not task(state, "t1").held


def test_pause_before_policy_holds_no_transition() -> None:
    """Only a 'pause' command holds the transitions after it: when a task's
    pause-before policy pauses the workflow, its sibling tasks exist (Mistral creates
    them before any of them starts)."""
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      on-success: [t2, t3]
    t2:
      action: std.noop
      pause-before: true
    t3:
      action: std.noop
""")
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    assert state.workflow.state is State.PAUSED
    assert [n for n, _s in tasks(state)] == ["t1", "t2", "t3"]
    assert not task(state, "t1").held


def test_advanced_publish_branch_and_global() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    a:
      action: std.echo output=7
      on-success:
        publish:
          branch: {local: <% task().result %>}
          global: {shared: <% task().result + 1 %>}
        next: [b, c]
    b:
      action: std.echo output=<% global(shared) %>
      publish: {from_global: <% task().result %>}
    c:
      action: std.echo output=<% $.local %>
      publish: {from_branch: <% task().result %>}
""")
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    assert task(state, "b").published == {"from_global": 8}
    assert task(state, "c").published == {"from_branch": 7}
    assert state.workflow.context["shared"] == 8


def test_task_defaults_on_error_apply_except_to_the_handler_itself() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  task-defaults:
    on-error: report
  tasks:
    t1:
      action: std.fail
    report:
      action: std.fail
""")
    state = sim.execute("wf")
    assert tasks(state) == [("t1", "ERROR"), ("report", "ERROR")]
    assert state.workflow.state is State.ERROR
    assert state.workflow.state_info is not None
    assert state.workflow.state_info.startswith("Failure caused by error in tasks: report")


def test_held_action_result_drives_the_workflow() -> None:
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    slow:
      action: my.slow
      publish: {r: <% task().result %>}
""",
        hold={"my.slow"},
    )
    wf_id = sim.start("wf")
    sim.run()
    assert sim.states[wf_id].workflow.state is State.RUNNING
    (run_id,) = sim.held
    sim.complete(run_id, ActionResult(data={"ok": True}))
    assert sim.states[wf_id].workflow.output == {"r": {"ok": True}}


def test_evaluation_error_fails_task_with_clear_message() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output=<% $.missing.deeper %>
""")
    state = sim.execute("wf")
    assert state.workflow.state is State.ERROR
    info = task(state, "t1").state_info or ""
    assert "$.missing.deeper" in info
    assert "t1" in info


def test_a_task_that_has_not_run_has_an_empty_list_as_result() -> None:
    # As in Mistral: task() in a task's own input, before any run finished, gives an
    # empty list as result (so ``.content`` of it is an empty list too).
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo
      input:
        output: <% task().result.content %>
      publish: {r: <% task().result %>}
""")
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    assert task(state, "t1").published == {"r": []}
