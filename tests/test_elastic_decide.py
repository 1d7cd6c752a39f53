"""The controller's decision functions, driven by a fake clock and hand-made scheduler samples."""

from __future__ import annotations

from dataclasses import replace

from pangeo_himat.controller.decide import (
    Config,
    Decision,
    JupyterSample,
    SchedulerSample,
    State,
    WorkerInfo,
    choose_retirees,
    decide_hibernate,
    decide_workers,
)

START_S = 1_000_000.0
ADAPTIVE = Config(mode="adaptive", minimum=0, maximum=20, workers_after_s=600, cooldown_s=60)
STATIC = Config(mode="static", static_count=8, workers_after_s=600, cooldown_s=60)


def workers(count: int, data: dict[int, int] | None = None) -> tuple[WorkerInfo, ...]:
    data = data or {}
    return tuple(
        WorkerInfo(f"tcp://10.0.0.{i}:4000", f"w{i:02d}", data.get(i, 0)) for i in range(count)
    )


def busy(target: int, count: int = 0, clients: int = 1) -> SchedulerSample:
    return SchedulerSample(target, None, clients, processing=10, workers=workers(count))


def idle(count: int, clients: int = 0, target: int = 0, since: float = START_S) -> SchedulerSample:
    return SchedulerSample(target, since, clients, processing=0, workers=workers(count))


class Replay:
    """Feeds samples at a fake time and applies every decision, as the loop does."""

    def __init__(self, config: Config, current: int = 0, start_s: float = START_S) -> None:
        self.config, self.current, self.now_s, self.state = config, current, start_s, State()

    def feed(self, sample: SchedulerSample, after_s: float = 5.0) -> Decision:
        self.now_s += after_s
        decision, self.state = decide_workers(
            self.config, self.state, sample, self.current, self.now_s
        )
        self.current = decision.replicas
        return decision


def test_scale_up_from_zero_is_immediate_and_clamped_to_max() -> None:
    replay = Replay(ADAPTIVE)
    decision = replay.feed(busy(target=50))
    assert decision.replicas == 20
    assert decision.retire == ()
    assert "scale up 0 -> 20" in decision.reason


def test_static_mode_brings_the_count_back_as_soon_as_a_client_connects() -> None:
    replay = Replay(STATIC, current=0)
    assert replay.feed(idle(0, clients=1)).replicas == 8


def test_scale_down_removes_at_most_a_quarter_per_step() -> None:
    replay = Replay(replace(ADAPTIVE, cooldown_s=0), current=20)
    seen = [replay.feed(idle(replay.current, clients=1, target=0)).replicas for _ in range(9)]
    # 3 agreeing samples per step; each step removes floor(25 %) of what runs, at least 1.
    assert seen == [20, 20, 15, 15, 15, 12, 12, 12, 9]


def test_the_step_is_at_least_one_worker() -> None:
    replay = Replay(replace(ADAPTIVE, cooldown_s=0), current=2)
    seen = [replay.feed(idle(replay.current, clients=1, target=0)).replicas for _ in range(6)]
    assert seen == [2, 2, 1, 1, 1, 0]


def test_cooldown_holds_a_scale_down_after_a_change() -> None:
    replay = Replay(ADAPTIVE, current=0)
    replay.feed(busy(target=8))
    held = [replay.feed(idle(8, clients=1), after_s=10) for _ in range(4)]
    assert [d.replicas for d in held] == [8, 8, 8, 8]
    assert "cooldown" in held[-1].reason
    after = replay.feed(idle(8, clients=1), after_s=30)
    assert after.replicas == 6


def test_one_busy_sample_in_the_window_blocks_a_scale_down() -> None:
    replay = Replay(replace(ADAPTIVE, cooldown_s=0), current=8)
    replay.feed(idle(8, clients=1))
    replay.feed(idle(8, clients=1))
    replay.feed(SchedulerSample(8, None, 1, 4, workers(8)))
    assert replay.feed(idle(8, clients=1)).replicas == 8
    assert replay.feed(idle(8, clients=1)).replicas == 8
    assert replay.feed(idle(8, clients=1)).replicas == 6


def test_static_workers_go_to_zero_only_after_workers_after_of_quiet() -> None:
    replay = Replay(replace(STATIC, cooldown_s=0), current=8)
    replay.feed(idle(8), after_s=5)
    before = [replay.feed(idle(replay.current), after_s=100).replicas for _ in range(5)]
    assert before == [8, 8, 8, 8, 8]  # 505 s of quiet < 600 s
    after = [replay.feed(idle(replay.current), after_s=100).replicas for _ in range(21)]
    assert after[:3] == [8, 8, 6]  # 605 s: the window fills with 0, then the first step
    assert after[2::3] == [6, 5, 4, 3, 2, 1, 0]  # 25 % of what runs, at least 1, per step


def test_a_restarted_controller_keeps_the_schedulers_idle_time() -> None:
    replay = Replay(replace(STATIC, cooldown_s=0), current=8)
    long_idle = idle(8, since=START_S - 3600)
    assert replay.feed(long_idle).desired == 0


def test_a_client_resets_the_idle_timer() -> None:
    replay = Replay(replace(STATIC, cooldown_s=0), current=8)
    for _ in range(5):
        replay.feed(idle(8), after_s=100)
    replay.feed(idle(8, clients=1), after_s=5)
    assert replay.state.quiet_since_s is None
    for _ in range(3):
        assert replay.feed(idle(8), after_s=100).replicas == 8


def test_adaptive_idle_timer_goes_to_min_not_zero() -> None:
    config = replace(ADAPTIVE, minimum=2, cooldown_s=0, workers_after_s=60)
    replay = Replay(config, current=4)
    seen = [replay.feed(idle(replay.current, target=4), after_s=30).replicas for _ in range(12)]
    assert seen[0] == 4
    assert seen[-1] == 2


def test_results_a_client_holds_keep_one_worker() -> None:
    config = replace(ADAPTIVE, cooldown_s=0)
    replay = Replay(config, current=2)
    holding = SchedulerSample(0, START_S, 1, 0, workers(2, data={1: 4096}))
    seen = [replay.feed(holding).replicas for _ in range(6)]
    assert seen[-1] == 1


def test_the_workers_holding_the_least_data_are_retired_first() -> None:
    pool = workers(4, data={0: 900, 1: 10, 2: 500, 3: 0})
    assert choose_retirees(pool, 2) == ("tcp://10.0.0.1:4000", "tcp://10.0.0.3:4000")
    replay = Replay(replace(ADAPTIVE, cooldown_s=0), current=4)
    sample = SchedulerSample(3, START_S, 1, 0, pool)
    decision = [replay.feed(sample) for _ in range(3)][-1]
    assert decision.replicas == 3
    assert decision.retire == ("tcp://10.0.0.3:4000",)


def test_workers_of_one_pod_leave_together_ranked_by_the_pods_data() -> None:
    pool = (
        WorkerInfo("tcp://10.0.0.1:4001", "a-0", 0, replica="10.0.0.1"),
        WorkerInfo("tcp://10.0.0.1:4002", "a-1", 900, replica="10.0.0.1"),
        WorkerInfo("tcp://10.0.0.2:4001", "b-0", 300, replica="10.0.0.2"),
        WorkerInfo("tcp://10.0.0.2:4002", "b-1", 300, replica="10.0.0.2"),
    )
    assert choose_retirees(pool, 1) == ("tcp://10.0.0.2:4001", "tcp://10.0.0.2:4002")


def test_dasks_target_in_workers_becomes_replicas_of_several_workers() -> None:
    replay = Replay(replace(ADAPTIVE, workers_per_replica=4))
    assert replay.feed(busy(target=9)).replicas == 3


HIBERNATE = replace(STATIC, hibernate_after_s=3600)


def hibernate_after(
    sample: SchedulerSample, jupyter: JupyterSample | None, quiet_s: float
) -> tuple[bool, str]:
    now_s = START_S
    state = State(quiet_since_s=now_s - quiet_s)
    return decide_hibernate(HIBERNATE, state, sample, jupyter, now_s)


QUIET_JUPYTER = JupyterSample(last_activity_s=0.0, busy_kernels=0)


def test_hibernate_after_the_limit_of_complete_quiet() -> None:
    sleep, reason = hibernate_after(idle(0), QUIET_JUPYTER, quiet_s=3601)
    assert sleep
    assert reason.startswith("hibernate: no Dask client")
    assert not hibernate_after(idle(0), QUIET_JUPYTER, quiet_s=3500)[0]


def test_a_busy_kernel_blocks_hibernate() -> None:
    sleep, reason = hibernate_after(idle(0), replace(QUIET_JUPYTER, busy_kernels=1), 9999)
    assert not sleep
    assert "kernel(s) busy" in reason


def test_a_connected_client_blocks_hibernate() -> None:
    sleep, reason = hibernate_after(idle(0, clients=1), QUIET_JUPYTER, 9999)
    assert not sleep
    assert "client" in reason


def test_recent_jupyter_activity_blocks_hibernate() -> None:
    recent = JupyterSample(last_activity_s=START_S - 60, busy_kernels=0)
    assert not hibernate_after(idle(0), recent, 9999)[0]


def test_unknown_jupyter_activity_blocks_hibernate() -> None:
    assert not hibernate_after(idle(0), None, 9999)[0]


def test_hibernate_is_off_without_hibernate_after() -> None:
    state = State(quiet_since_s=0.0)
    assert decide_hibernate(STATIC, state, idle(0), QUIET_JUPYTER, 1e9) == (
        False,
        "idle sleep is off",
    )
