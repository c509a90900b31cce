package dev.grpckeepalive.advisor;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionState;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.PingStatistics;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.connection.SilenceBeforeClose;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Findings {@code idle_connections_dropped} and {@code no_keepalive_on_idle_path} from
 * silences and closes fed by hand, on an injected clock: the bracket between the longest
 * silence that survived and the shortest that killed, the documented idle timeouts in it,
 * and the keepalive time suggested.
 */
class IdlePathWatchTests {

	private static final String TIME = "grpc.keepalive.client.channels.prices.time";

	private static final String WITHOUT_CALLS = "grpc.keepalive.client.channels.prices.without-calls";

	private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

	private final KeepAliveAdvisor advisor = new KeepAliveAdvisor(Duration.ofHours(1), this.clock);

	private final ConnectionTrackerView channel = ConnectionTracker.create(Side.CLIENT, "prices", null, null).view();

	private final ConnectionTrackerView server = ConnectionTracker.create(Side.SERVER, "server", null, null).view();

	private final List<String> warnings = new CopyOnWriteArrayList<>();

	private int ids;

	@BeforeEach
	void captureWarnings() {
		this.advisor.warnings = this.warnings::add;
	}

	@Test
	void anAwsNatGatewayFitsDeathsAt350sAfterSilencesOf300sSurvived() {
		IdlePathWatch watch = channelWatch(Duration.ofMinutes(10), false);
		watch.silenceSurvived(this.channel, 1, seconds(120), false);
		watch.silenceSurvived(this.channel, 1, seconds(300), false);
		watch.silenceSurvived(this.channel, 2, seconds(200), false);
		watch.connectionClosed(this.channel, closed(CloseReason.PEER_CLOSED, seconds(350) + 40_000_000L, false, false));
		assertThat(this.advisor.findings()).as("one death is no evidence: a client may just have exited").isEmpty();
		watch.connectionClosed(this.channel, closed(CloseReason.PEER_CLOSED, seconds(350) + 900_000_000L, false, false));

		Finding finding = only(FindingType.IDLE_CONNECTIONS_DROPPED);
		assertThat(finding.side()).isEqualTo(Side.CLIENT);
		assertThat(finding.channel()).isEqualTo("prices");
		assertThat(finding.severity()).isEqualTo(Severity.WARNING);
		Evidence.IdleConnectionsDropped evidence = dropped(finding);
		assertThat(evidence.longestSurvivedSilenceMillis()).isEqualTo(300_000L);
		assertThat(evidence.idleTimeoutBracket()).isEqualTo(new Evidence.IdleConnectionsDropped.Bracket("5m", "5m57s41ms"));
		assertThat(evidence.documentedIdleTimeoutsInBracket())
			.containsExactly("AWS Network Load Balancer (TCP listener) (5m50s)", "AWS NAT Gateway (5m50s)");
		assertThat(evidence.deaths()).isEqualTo(2);
		assertThat(evidence.diedDuringSilence()).isEqualTo(2);
		assertThat(evidence.betweenCalls()).isEqualTo(2);
		// the deaths came during the silence: the middlebox's own timer, 350s; 80% is 280s
		assertThat(finding.recommendation().property()).isEqualTo(TIME);
		assertThat(finding.recommendation().current()).isEqualTo("10m");
		assertThat(finding.recommendation().suggested()).isEqualTo("4m40s");
		assertThat(finding.recommendation().lowerBound()).isFalse();
		assertThat(finding.recommendation().alsoSet())
			.containsExactly(new Recommendation.Change(WITHOUT_CALLS, "false", "true"));
		assertThat(this.advisor.findings()).as("keepalive is on: no no_keepalive_on_idle_path").hasSize(1);
	}

	@Test
	void aClientExitingAfterAShortSilenceIsNoMiddleboxEvenTwice() {
		// the case: FIN after 1.3s, although a longer silence had survived; and pauses under 2s
		IdlePathWatch watch = serverWatch();
		watch.silenceSurvived(this.server, 1, 1_500_000_000L, false);
		watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, 1_363_000_000L, false, false));
		watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, 1_700_000_000L, false, false));
		watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, 1_750_000_000L, false, false));
		assertThat(this.advisor.findings()).isEmpty();
	}

	@Test
	void deathsAtSilencesNoLongerThanOneThatSurvivedContradictAnIdleTimeoutAndMakeNoFinding() {
		IdlePathWatch watch = channelWatch(null, false);
		watch.silenceSurvived(this.channel, 1, seconds(30), false);
		watch.silenceSurvived(this.channel, 1, seconds(90), false);
		watch.connectionClosed(this.channel, closed(CloseReason.PEER_CLOSED, seconds(60), false, false));
		watch.connectionClosed(this.channel, closed(CloseReason.PEER_CLOSED, seconds(61), false, false));
		watch.connectionClosed(this.channel, closed(CloseReason.PEER_CLOSED, seconds(62), false, false));
		assertThat(this.advisor.findings()).isEmpty();
	}

	@Test
	void deathsWhoseSilencesDisagreeAreNoTimer() {
		// nginx-like: upstream connections closed after whatever silence they had when the pool was full
		IdlePathWatch watch = serverWatch();
		for (long millis : new long[] { 2_438, 3_900, 6_100, 9_000, 14_000, 21_000 }) {
			watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, millis * 1_000_000L, false, false));
		}
		assertThat(this.advisor.findings()).isEmpty();
	}

	@Test
	void orderlyClosesWhileTheSamePeerKeepsAnotherConnectionBusyArePoolChurn() {
		AtomicLong ticker = new AtomicLong();
		ConnectionTracker server = new ConnectionTracker(Side.SERVER, "server", null, null, ticker::get, this.clock,
				ConnectionTracker.DEFAULT_HISTORY_SIZE);
		IdlePathWatch watch = IdlePathWatch.server(this.advisor, serverTime());
		InetSocketAddress proxy = new InetSocketAddress("10.0.0.7", 40_000);
		// a client reconnecting as its connection dies is no pool: the new connection is under a second old
		server.connectionOpened(new InetSocketAddress("10.0.0.9", 40_000), new InetSocketAddress("10.0.0.1", 9090));
		ticker.addAndGet(500_000_000L);
		watch.connectionClosed(server.view(), closedFrom(new InetSocketAddress("10.0.0.9", 40_001), CloseReason.PEER_CLOSED,
				seconds(60)));
		watch.connectionClosed(server.view(), closedFrom(new InetSocketAddress("10.0.0.9", 40_002), CloseReason.PEER_CLOSED,
				seconds(60)));
		assertThat(dropped(only(FindingType.IDLE_CONNECTIONS_DROPPED)).deaths()).isEqualTo(2);
		this.clock.advance(Duration.ofHours(2));
		assertThat(this.advisor.findings()).isEmpty();

		// the proxy's connection that it keeps, opened during the silences below
		server.connectionOpened(proxy, new InetSocketAddress("10.0.0.1", 9090));
		ticker.addAndGet(seconds(5));
		for (int i = 0; i < 4; i++) {
			watch.connectionClosed(server.view(), closedFrom(new InetSocketAddress("10.0.0.7", 40_001 + i),
					CloseReason.PEER_CLOSED, seconds(60) + i * 1_000_000L));
		}
		assertThat(this.advisor.findings()).isEmpty();

		// the same closes from hosts with no other connection: a timer at 60s
		for (int i = 0; i < 2; i++) {
			watch.connectionClosed(server.view(), closedFrom(new InetSocketAddress("10.0.0." + (20 + i), 40_000),
					CloseReason.PEER_CLOSED, seconds(60) + i * 1_000_000L));
		}
		Finding finding = only(FindingType.IDLE_CONNECTIONS_DROPPED);
		assertThat(dropped(finding).deaths()).isEqualTo(2);
		assertThat(dropped(finding).deathsNotExplainedByAnIdleTimeout().poolChurn()).isEqualTo(4);
	}

	@Test
	void keepAliveTimeoutsAfterASilenceBoundTheTimeoutFromAboveAndTheSuggestionComesFromWhatSurvived() {
		IdlePathWatch watch = channelWatch(Duration.ofMinutes(15), true);
		watch.connectionClosed(this.channel, closed(CloseReason.KEEPALIVE_TIMEOUT, seconds(900), true, false));
		watch.connectionClosed(this.channel, closed(CloseReason.KEEPALIVE_TIMEOUT, seconds(900), true, false));
		assertThat(this.advisor.findings()).as("no silence known to survive: a dead peer fits as well").isEmpty();

		watch.silenceSurvived(this.channel, 1, seconds(50), false);
		watch.connectionClosed(this.channel, closed(CloseReason.KEEPALIVE_TIMEOUT, seconds(900), true, false));
		Finding finding = only(FindingType.IDLE_CONNECTIONS_DROPPED);
		assertThat(dropped(finding).idleTimeoutBracket())
			.isEqualTo(new Evidence.IdleConnectionsDropped.Bracket("50s", "15m18s"));
		assertThat(dropped(finding).diedRightAfterWritingAfterSilence()).isEqualTo(3);
		assertThat(dropped(finding).deaths()).isEqualTo(3);
		assertThat(dropped(finding).documentedIdleTimeoutsInBracket()).hasSize(6);
		assertThat(finding.recommendation().suggested()).as("80% of the 50s that survived").isEqualTo("40s");
		assertThat(finding.recommendation().current()).isEqualTo("15m");
		assertThat(this.warnings).hasSize(1);
	}

	@Test
	void aHaProxyLikeTimeoutOf3sIsBelowWhatGrpcJavaCanPingSoTheMiddleboxMustChange() {
		IdlePathWatch watch = channelWatch(null, false);
		watch.silenceSurvived(this.channel, 1, 1_500_000_000L, false);
		watch.connectionClosed(this.channel, closed(CloseReason.PEER_CLOSED, 2_999_000_000L, false, false));
		watch.connectionClosed(this.channel, closed(CloseReason.PEER_CLOSED, 3_004_000_000L, false, true));

		Finding dropped = find(FindingType.IDLE_CONNECTIONS_DROPPED);
		assertThat(dropped(dropped).idleTimeoutBracket())
			.isEqualTo(new Evidence.IdleConnectionsDropped.Bracket("1s500ms", "3s59ms"));
		assertThat(dropped(dropped).documentedIdleTimeoutsInBracket()).isEmpty();
		// no keepalive time grpc-java accepts (10s or more) is shorter than 3s: never suggest one it would clamp
		Recommendation fix = dropped.recommendation();
		assertThat(fix.property()).isEqualTo(IdlePathWatch.MIDDLEBOX_IDLE_TIMEOUT);
		assertThat(fix.current()).isEqualTo("at most 3s59ms");
		assertThat(fix.suggested()).isEqualTo("12s500ms");
		assertThat(fix.lowerBound()).isTrue();
		assertThat(fix.alsoSet()).containsExactly(new Recommendation.Change(TIME, "disabled", "10s"),
				new Recommendation.Change(WITHOUT_CALLS, "false", "true"));
		assertThat(fix.text()).contains("grpc-java raises a keepalive time under 10s to 10s");

		Finding noKeepAlive = find(FindingType.NO_KEEPALIVE_ON_IDLE_PATH);
		assertThat(noKeepAlive.side()).isEqualTo(Side.CLIENT);
		Evidence.NoKeepAliveOnIdlePath noKeepAliveEvidence = (Evidence.NoKeepAliveOnIdlePath) noKeepAlive.evidence();
		assertThat(noKeepAliveEvidence.deathsWithCallsInFlight()).isEqualTo(1);
		assertThat(noKeepAliveEvidence.deathsBetweenCalls()).isEqualTo(1);
		assertThat(noKeepAliveEvidence.shortestKillingSilenceMillis()).isEqualTo(2_999L);
		assertThat(noKeepAlive.recommendation().property()).isEqualTo(TIME);
		assertThat(noKeepAlive.recommendation().current()).isEqualTo("disabled");
		assertThat(noKeepAlive.recommendation().suggested()).as("at least grpc-java's 10s").isEqualTo("10s");
	}

	@Test
	void noKeepAliveOnIdlePathSuggests80PercentOfTheShortestKillAndWithoutCallsWhenDeathsCameBetweenCalls() {
		IdlePathWatch watch = channelWatch(null, false);
		watch.connectionClosed(this.channel, closed(CloseReason.PEER_CLOSED, seconds(240), false, true));
		watch.connectionClosed(this.channel, closed(CloseReason.PEER_CLOSED, seconds(241), false, false));

		Finding finding = find(FindingType.NO_KEEPALIVE_ON_IDLE_PATH);
		assertThat(finding.recommendation().suggested()).isEqualTo("3m12s");
		assertThat(finding.recommendation().alsoSet())
			.containsExactly(new Recommendation.Change(WITHOUT_CALLS, "false", "true"));
		assertThat(((Evidence.NoKeepAliveOnIdlePath) finding.evidence()).deathsBetweenCalls()).isEqualTo(1);
		assertThat(dropped(find(FindingType.IDLE_CONNECTIONS_DROPPED)).documentedIdleTimeoutsInBracket())
			.isEqualTo(List.of("AWS Application Load Balancer (1m)", "Azure Load Balancer (4m)", "Azure NAT Gateway (4m)"));
	}

	@Test
	void closesAGoAwayExplainsOrThatCameWithoutSilenceAreNoEvidence() {
		IdlePathWatch watch = channelWatch(null, false);
		for (int i = 0; i < 2; i++) {
			watch.connectionClosed(this.channel, closed(CloseReason.MAX_IDLE, seconds(300), false, false));
			watch.connectionClosed(this.channel, closed(CloseReason.APP_REQUESTED, seconds(300), false, false));
			watch.connectionClosed(this.channel, snapshot(CloseReason.PEER_CLOSED, null, null));
			watch.connectionClosed(this.channel, snapshot(CloseReason.PEER_CLOSED,
					new SilenceBeforeClose(seconds(300), false, false),
					new GoAway(GoAway.Direction.RECEIVED, 0, "", CloseReason.PEER_GOAWAY, 0)));
		}

		assertThat(this.advisor.findings()).isEmpty();
	}

	@Test
	void theServerIsToldToPingAndDeathsExpireWithTheWindow() {
		IdlePathWatch watch = serverWatch();
		watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, seconds(600), false, false));
		watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, seconds(601), false, false));

		Finding finding = only(FindingType.IDLE_CONNECTIONS_DROPPED);
		assertThat(finding.side()).isEqualTo(Side.SERVER);
		assertThat(finding.recommendation().property()).isEqualTo("grpc.keepalive.server.time");
		assertThat(finding.recommendation().current()).isEqualTo("2h");
		assertThat(finding.recommendation().suggested()).isEqualTo("8m");
		assertThat(finding.recommendation().alsoSet()).isEmpty();
		assertThat(finding.recommendation().instead()).contains("max-connection-idle");
		assertThat(dropped(finding).documentedIdleTimeoutsInBracket()).isEqualTo(List.of(
				"AWS Application Load Balancer (1m)", "Azure Load Balancer (4m)", "Azure NAT Gateway (4m)",
				"AWS Network Load Balancer (TCP listener) (5m50s)", "AWS NAT Gateway (5m50s)",
				"GCP firewall connection tracking / passthrough Network Load Balancer (10m)"));

		this.clock.advance(Duration.ofMinutes(61));
		assertThat(this.advisor.findings()).isEmpty();
		watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, seconds(1200), false, false));
		assertThat(this.advisor.findings()).as("the earlier deaths are out of the window").isEmpty();
		watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, seconds(1201), false, false));
		assertThat(dropped(only(FindingType.IDLE_CONNECTIONS_DROPPED)).deaths()).isEqualTo(2);
	}

	@Test
	void onTheServerAnIdleTimeoutUnder12sIsMetWithMaxConnectionIdle() {
		IdlePathWatch watch = serverWatch();
		watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, seconds(5), false, false));
		watch.connectionClosed(this.server, closed(CloseReason.PEER_CLOSED, seconds(5) + 20_000_000L, false, false));

		Recommendation fix = only(FindingType.IDLE_CONNECTIONS_DROPPED).recommendation();
		assertThat(fix.property()).isEqualTo(IdlePathWatch.MIDDLEBOX_IDLE_TIMEOUT);
		assertThat(fix.lowerBound()).isTrue();
		assertThat(fix.instead()).contains("grpc.keepalive.server.max-connection-idle to 4s");
	}

	@Test
	void everyMiddleboxIsInTheTableOfTuningMdWithItsFigure() throws Exception {
		List<String> rows = new ArrayList<>();
		for (String line : Files.readAllLines(Path.of("..", "docs", "tuning.md"))) {
			if (line.startsWith("| ")) {
				rows.add(line);
			}
		}
		for (Middlebox middlebox : Middlebox.values()) {
			assertThat(rows).as(middlebox.name())
				.anySatisfy((row) -> assertThat(row).startsWith("| " + middlebox.tuningRow() + " |")
					.contains(middlebox.tuningFigure()));
			String seconds = middlebox.idleTimeout().toSeconds() + " s";
			String minutes = middlebox.idleTimeout().toMinutes() + " min";
			assertThat(middlebox.tuningFigure()).as(middlebox.name()).matches((figure) -> figure.startsWith(seconds)
					|| figure.startsWith(minutes) && middlebox.idleTimeout().toSeconds() % 60 == 0);
		}
	}

	private IdlePathWatch channelWatch(@Nullable Duration time, boolean withoutCalls) {
		// the time inherited from the channels' defaults: the fix is still the channel's own property
		return IdlePathWatch.channel(this.advisor,
				new DurationSetting("grpc.keepalive.client.defaults.time", time, time, null),
				"grpc.keepalive.client.channels.prices", withoutCalls);
	}

	private IdlePathWatch serverWatch() {
		return IdlePathWatch.server(this.advisor, serverTime());
	}

	private static DurationSetting serverTime() {
		return new DurationSetting("grpc.keepalive.server.time", Duration.ofHours(2), Duration.ofHours(2), null);
	}

	private ConnectionSnapshot closedFrom(InetSocketAddress remote, CloseReason reason, long silenceNanos) {
		this.ids++;
		// ids apart from those the tracker gives the connections it holds open
		return new ConnectionSnapshot("s-" + (1000 + this.ids), Side.SERVER, "server", remote, null, 0, seconds(900), 0, 0, 0,
				ConnectionState.CLOSED, true, null, new PingStatistics.Snapshot(0, java.util.Map.of(), 0, 0, 0, null), null, null, false, null, reason,
				0L, new SilenceBeforeClose(silenceNanos, false, false), List.of());
	}

	private static Evidence.IdleConnectionsDropped dropped(Finding finding) {
		return (Evidence.IdleConnectionsDropped) finding.evidence();
	}

	private Finding only(FindingType type) {
		assertThat(this.advisor.findings()).hasSize(1);
		return find(type);
	}

	private Finding find(FindingType type) {
		return this.advisor.findings().stream().filter((finding) -> finding.type() == type).findFirst().orElseThrow();
	}

	private ConnectionSnapshot closed(CloseReason reason, long silenceNanos, boolean afterWrite, boolean withCalls) {
		return snapshot(reason, new SilenceBeforeClose(silenceNanos, afterWrite, withCalls), null);
	}

	private ConnectionSnapshot snapshot(CloseReason reason, @Nullable SilenceBeforeClose silence,
			@Nullable GoAway received) {
		this.ids++;
		return new ConnectionSnapshot("c-prices-" + this.ids, Side.CLIENT, "prices", null, null, 0, seconds(900), 0, 0,
				0, ConnectionState.CLOSED, true, null, new PingStatistics.Snapshot(0, java.util.Map.of(), 0, 0, 0, null), null, received, false, null,
				reason, 0L, silence, List.of());
	}

	private static long seconds(long seconds) {
		return Duration.ofSeconds(seconds).toNanos();
	}

}
