package dev.grpckeepalive.operate;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionRecord;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.DrainResult;
import dev.grpckeepalive.connection.Side;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The rebalance's own timing and arithmetic, on a fake clock: how many it drains (keep,
 * shed), which (the oldest that are not closing already), when (spread evenly over the
 * period, the first at once, all within it), one rebalance at a time, and one log line per
 * action. The connections are a real tracker's records, each with a graceful close that notes
 * when it was asked for.
 */
@ExtendWith(OutputCaptureExtension.class)
@ResourceLock(Resources.SYSTEM_OUT)
@Execution(ExecutionMode.SAME_THREAD)
class ConnectionOperationsTests {

	private static final Duration GRACE = Duration.ofSeconds(7);

	private final FakeScheduler scheduler = new FakeScheduler();

	private final Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

	private final ConnectionTracker tracker = new ConnectionTracker(Side.SERVER, "server", null, null,
			this.scheduler::nanoTime, this.clock, 100);

	private final List<ConnectionRecord> records = new ArrayList<>();

	/** Which connection's graceful close started, and when on the fake clock (nanos since the first open). */
	private final List<String> drained = new ArrayList<>();

	private final List<Long> drainedAt = new ArrayList<>();

	private final ConnectionOperations operations = new ConnectionOperations(this.tracker.view(), this.tracker::drain,
			GRACE, this.scheduler, this.scheduler::nanoTime, this.clock);

	private void open(int count) {
		this.tracker.framesObserved();
		for (int i = 0; i < count; i++) {
			ConnectionRecord record = this.tracker.connectionOpened(
					new InetSocketAddress("127.0.0.1", 40000 + this.records.size()),
					new InetSocketAddress("127.0.0.1", 9090));
			record.closableBy((grace) -> {
				assertThat(grace).isEqualTo(GRACE);
				this.drained.add(record.displayId());
				this.drainedAt.add(this.scheduler.nanoTime());
			});
			this.records.add(record);
		}
	}

	@Test
	void shedsAShareOldestFirstSpreadEvenlyOverThePeriod(CapturedOutput output) {
		open(15);
		long start = this.scheduler.nanoTime();
		RebalancePlan plan = this.operations.rebalance(RebalanceRequest.parse(null, "0.3333", "10s"));

		assertThat(plan.ids()).containsExactly("s-1", "s-2", "s-3", "s-4", "s-5");
		assertThat(plan.open()).isEqualTo(15);
		assertThat(plan.keeping()).isEqualTo(10);
		assertThat(plan.interval()).isEqualTo(Duration.ofSeconds(2));
		assertThat(plan.startedAt()).isEqualTo(this.clock.instant());
		// the answer comes before any drain: the first is due at once, on the scheduler's thread
		assertThat(this.drained).isEmpty();

		this.scheduler.advance(Duration.ofSeconds(10));
		assertThat(this.drained).containsExactly("s-1", "s-2", "s-3", "s-4", "s-5");
		assertThat(this.drainedAt).containsExactly(start, start + 2_000_000_000L, start + 4_000_000_000L,
				start + 6_000_000_000L, start + 8_000_000_000L);
		assertThat(this.scheduler.pending()).isZero();
		assertThat(this.operations.running()).isEmpty();
		assertThat(output).containsOnlyOnce("Rebalance (shed 0.3333 over 10s) at an operator's request: draining 5 "
				+ "of 15 connection(s), oldest first, one every 2s over 10s, each with a grace of 7s: s-1, s-2, s-3, "
				+ "s-4, s-5");
		assertThat(output).doesNotContain("Draining gRPC server connection");
	}

	@Test
	void keepsNConnectionsAndLeavesThoseClosingAlreadyOut() {
		open(6);
		this.records.get(0).goAwayReceived(0, "");
		this.records.get(2).goAwaySent(0, "max_age", false);
		RebalancePlan plan = this.operations.rebalance(RebalanceRequest.parse("2", null, "0s"));

		assertThat(plan.open()).isEqualTo(4);
		assertThat(plan.ids()).containsExactly("s-2", "s-4");
		assertThat(plan.interval()).isZero();
		this.scheduler.advance(Duration.ZERO);
		assertThat(this.drained).containsExactly("s-2", "s-4");
	}

	@Test
	void shareArithmeticRoundsToTheNearestConnection() {
		assertThat(RebalancePlan.count(new RebalanceRequest(null, 0.25, Duration.ZERO), 10)).isEqualTo(3);
		assertThat(RebalancePlan.count(new RebalanceRequest(null, 0.24, Duration.ZERO), 10)).isEqualTo(2);
		assertThat(RebalancePlan.count(new RebalanceRequest(null, 1.0 / 3, Duration.ZERO), 15)).isEqualTo(5);
		assertThat(RebalancePlan.count(new RebalanceRequest(null, 0.1, Duration.ZERO), 4)).isZero();
		assertThat(RebalancePlan.count(new RebalanceRequest(null, 1.0, Duration.ZERO), 7)).isEqualTo(7);
		assertThat(RebalancePlan.count(new RebalanceRequest(9, null, Duration.ZERO), 7)).isZero();
		assertThat(RebalancePlan.count(new RebalanceRequest(0, null, Duration.ZERO), 7)).isEqualTo(7);
	}

	@Test
	void offsetsAreExactAndTheLastIsOneIntervalBeforeTheEnd() {
		RebalancePlan plan = new RebalancePlan("test", 3, List.of("s-1", "s-2", "s-3"), Duration.ofSeconds(1),
				this.clock.instant());
		assertThat(plan.offsetNanos(0)).isZero();
		assertThat(plan.offsetNanos(1)).isEqualTo(333_333_333L);
		assertThat(plan.offsetNanos(2)).isEqualTo(666_666_666L);
		RebalancePlan longest = new RebalancePlan("test", 100_000, java.util.Collections.nCopies(100_000, "s-1"),
				RebalanceRequest.MAX_OVER, this.clock.instant());
		assertThat(longest.offsetNanos(99_999)).isEqualTo(RebalanceRequest.MAX_OVER.toNanos() / 100_000 * 99_999);
	}

	@Test
	void aLateSchedulerCatchesUpWithoutDrift() {
		open(4);
		long start = this.scheduler.nanoTime();
		this.operations.rebalance(RebalanceRequest.parse("0", null, "4s"));
		this.scheduler.stall(Duration.ofMillis(2500));
		this.scheduler.advance(Duration.ZERO);
		// due at 0, 1s and 2s: all three at once when the scheduler finally runs
		assertThat(this.drained).containsExactly("s-1", "s-2", "s-3");
		this.scheduler.advance(Duration.ofMillis(499));
		assertThat(this.drained).hasSize(3);
		this.scheduler.advance(Duration.ofMillis(1));
		assertThat(this.drainedAt.get(3)).isEqualTo(start + 3_000_000_000L);
	}

	@Test
	void oneRebalanceAtATimeUntilItIsDoneOrCancelled(CapturedOutput output) {
		open(4);
		this.operations.rebalance(RebalanceRequest.parse("0", null, "4s"));
		this.scheduler.advance(Duration.ofMillis(1500));
		assertThatExceptionOfType(RebalanceRunningException.class)
			.isThrownBy(() -> this.operations.rebalance(RebalanceRequest.parse("0", null, "0s")))
			.satisfies((ex) -> {
				assertThat(ex.getRunning().drained()).isEqualTo(2);
				assertThat(ex.getRunning().remaining()).isEqualTo(2);
			});
		RebalanceProgress cancelled = this.operations.cancel().orElseThrow();
		assertThat(cancelled.cancelled()).isTrue();
		assertThat(cancelled.remaining()).isEqualTo(2);
		assertThat(this.scheduler.pending()).isZero();
		this.scheduler.advance(Duration.ofSeconds(10));
		assertThat(this.drained).containsExactly("s-1", "s-2");
		assertThat(this.operations.cancel()).isEmpty();
		assertThat(output).containsOnlyOnce("cancelled at an operator's request: 2 connection(s) drained, 2 left open");

		// done: the next one runs
		RebalancePlan next = this.operations.rebalance(RebalanceRequest.parse("0", null, "0s"));
		assertThat(next.ids()).containsExactly("s-3", "s-4");
		this.scheduler.advance(Duration.ZERO);
		assertThat(this.operations.rebalance(RebalanceRequest.parse("0", null, "0s")).count()).isZero();
	}

	@Test
	void connectionsThatCloseBeforeTheirTurnAreCountedAsGone() {
		open(3);
		this.operations.rebalance(RebalanceRequest.parse("0", null, "2s"));
		this.scheduler.advance(Duration.ZERO);
		this.records.get(1).close();
		this.records.get(2).goAwayReceived(0, "");
		this.scheduler.advance(Duration.ofSeconds(1));
		RebalanceProgress progress = this.operations.running().orElseThrow();
		assertThat(progress.drained()).isEqualTo(1);
		assertThat(progress.gone()).isEqualTo(1);
		this.scheduler.advance(Duration.ofSeconds(1));
		assertThat(this.drained).containsExactly("s-1");
		assertThat(this.operations.running()).isEmpty();
	}

	@Test
	void aDrainIsLoggedOnceAndTheCloseIsDrained(CapturedOutput output) {
		open(1);
		assertThat(this.operations.drain("s-1")).isEqualTo(DrainResult.DRAINING);
		assertThat(this.operations.drain("s-1")).isEqualTo(DrainResult.ALREADY_DRAINING);
		assertThat(this.operations.drain("s-2")).isEqualTo(DrainResult.NOT_OPEN);
		assertThat(output).containsOnlyOnce("Draining gRPC server connection s-1 at an operator's request: GOAWAY "
				+ "drained sent; it closes once its calls in flight are done, within 7s");
		this.records.get(0).goAwaySent(0, "drained", false);
		this.records.get(0).close();
		assertThat(this.tracker.view().closedConnections(CloseReason.DRAINED)).isEqualTo(1);
	}

	@Test
	void withoutTheFrameObserverNothingCanBeDrained() {
		ConnectionTracker unobserved = new ConnectionTracker(Side.SERVER, "server", null, null,
				this.scheduler::nanoTime, this.clock, 100);
		ConnectionOperations operations = new ConnectionOperations(unobserved.view(), unobserved::drain, GRACE,
				this.scheduler, this.scheduler::nanoTime, this.clock);
		assertThatExceptionOfType(IllegalStateException.class)
			.isThrownBy(() -> operations.rebalance(RebalanceRequest.parse("0", null, null)))
			.withMessageContaining("grpc.keepalive.frames.enabled=true");
	}

}
