package dev.grpckeepalive.connection;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** Pages of the open connections, by cursor and filters, on an injected ticker: exact ages and idle times. */
class ConnectionPagingTests {

	private final AtomicLong now = new AtomicLong(1_000_000_000L);

	private final ConnectionTracker tracker = new ConnectionTracker(Side.SERVER, "server", null, null, this.now::get,
			Clock.fixed(Instant.parse("2026-11-23T12:00:00Z"), ZoneOffset.UTC), 3);

	private final ConnectionTrackerView view = this.tracker.view();

	private int port = 40000;

	@Test
	void pagingByTheLastIdReturnsEveryConnectionOnceInOpenOrder() {
		List<String> opened = new ArrayList<>();
		for (int i = 0; i < 23; i++) {
			opened.add(open("10.0.0.1").displayId());
		}
		List<String> paged = new ArrayList<>();
		long after = 0;
		List<ConnectionSnapshot> page;
		do {
			page = this.view.openConnections(query(after, 5));
			assertThat(page).hasSizeLessThanOrEqualTo(5);
			page.forEach((connection) -> paged.add(connection.id()));
			after = page.isEmpty() ? after : number(page.get(page.size() - 1).id());
		}
		while (!page.isEmpty());
		assertThat(paged).containsExactlyElementsOf(opened);
	}

	@Test
	void aClosedConnectionsIdIsStillACursor() {
		ConnectionRecord first = open("10.0.0.1");
		ConnectionRecord second = open("10.0.0.1");
		ConnectionRecord third = open("10.0.0.1");
		second.close();

		assertThat(ids(query(number(second.displayId()), 10))).containsExactly(third.displayId());
		assertThat(ids(query(0, 10))).containsExactly(first.displayId(), third.displayId());
		assertThat(ids(query(number(third.displayId()) + 1000, 10))).as("a cursor past the newest").isEmpty();
	}

	@Test
	void theLimitEndsThePage() {
		for (int i = 0; i < 10; i++) {
			open("10.0.0.1");
		}
		assertThat(ids(query(0, 3))).containsExactly("s-1", "s-2", "s-3");
		assertThat(ids(query(3, 1))).containsExactly("s-4");
	}

	@Test
	void minAgeKeepsTheConnectionsAtLeastThatOld() {
		open("10.0.0.1");
		advance(Duration.ofSeconds(10));
		open("10.0.0.1");
		advance(Duration.ofSeconds(5));

		assertThat(ids(filtered(null, null, Duration.ofSeconds(15), null))).containsExactly("s-1");
		assertThat(ids(filtered(null, null, Duration.ofSeconds(5), null))).containsExactly("s-1", "s-2");
		assertThat(ids(filtered(null, null, Duration.ofSeconds(16), null))).isEmpty();
	}

	@Test
	void minIdleKeepsTheConnectionsWithoutCallsThatLong() {
		ConnectionRecord busy = open("10.0.0.1");
		ConnectionRecord quiet = open("10.0.0.1");
		ConnectionRecord recent = open("10.0.0.1");
		busy.callStarted();
		advance(Duration.ofSeconds(30));
		recent.callStarted();
		recent.callEnded();
		advance(Duration.ofSeconds(1));

		assertThat(ids(filtered(null, null, null, Duration.ofSeconds(30)))).as("a call in flight is never idle")
			.containsExactly(quiet.displayId());
		assertThat(ids(filtered(null, null, null, Duration.ofSeconds(1)))).containsExactly(quiet.displayId(),
				recent.displayId());
		assertThat(ids(filtered(null, null, null, Duration.ZERO))).hasSize(3);
	}

	@Test
	void stateKeepsTheConnectionsInOneOfTheStates() {
		ConnectionRecord active = open("10.0.0.1");
		ConnectionRecord idle = open("10.0.0.1");
		ConnectionRecord draining = open("10.0.0.1");
		active.callStarted();
		draining.goAwayReceived(0, "");

		assertThat(ids(states(ConnectionState.ACTIVE))).containsExactly(active.displayId());
		assertThat(ids(states(ConnectionState.IDLE))).containsExactly(idle.displayId());
		assertThat(ids(states(ConnectionState.DRAINING))).containsExactly(draining.displayId());
		assertThat(ids(states(ConnectionState.IDLE, ConnectionState.DRAINING))).containsExactly(idle.displayId(),
				draining.displayId());
	}

	@Test
	void remotePrefixMatchesTheAddressAsShownWithoutItsSlash() {
		ConnectionRecord a = open("10.1.2.3");
		open("10.2.0.1");
		ConnectionRecord c = open("10.1.9.9");

		assertThat(ids(filtered("10.1.", null, null, null))).containsExactly(a.displayId(), c.displayId());
		assertThat(ids(filtered("10.1.2.3:40000", null, null, null)))
			.containsExactly(a.displayId());
		assertThat(ids(filtered("192.", null, null, null))).isEmpty();
	}

	@Test
	void userAgentMatchesTextTheAgentContainsAndNeverAnUnknownAgent() {
		ConnectionRecord java = open("10.0.0.1");
		ConnectionRecord python = open("10.0.0.1");
		open("10.0.0.1");
		java.userAgentSeen("grpc-java-netty/1.84.1");
		python.userAgentSeen("grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)");

		assertThat(ids(filtered(null, "grpc-c/", null, null))).containsExactly(python.displayId());
		assertThat(ids(filtered(null, "grpc-", null, null))).containsExactly(java.displayId(), python.displayId());
	}

	@Test
	void theFiltersCombineAndTheLimitCountsMatchesOnly() {
		for (int i = 0; i < 10; i++) {
			ConnectionRecord record = open((i % 2 == 0) ? "10.0.0.1" : "10.0.0.2");
			if (i % 3 == 0) {
				record.callStarted();
			}
		}
		// idle ones on 10.0.0.2: s-2, s-6, s-8 (s-4 and s-10 have calls)
		ConnectionQuery query = new ConnectionQuery(0, 2, Set.of(ConnectionState.IDLE), "10.0.0.2", null, null, null);
		assertThat(ids(query)).containsExactly("s-2", "s-6");
		assertThat(ids(new ConnectionQuery(6, 2, Set.of(ConnectionState.IDLE), "10.0.0.2", null, null, null)))
			.containsExactly("s-8");
	}

	@Test
	void findSeeksAnOpenConnectionByItsNumber() {
		open("10.0.0.1");
		ConnectionRecord second = open("10.0.0.1");
		second.close();
		open("10.0.0.1");

		assertThat(this.view.find("s-3")).hasValueSatisfying((found) -> assertThat(found.isClosed()).isFalse());
		assertThat(this.view.find("s-2")).as("from the history")
			.hasValueSatisfying((found) -> assertThat(found.isClosed()).isTrue());
		assertThat(this.view.find("s-4")).isEmpty();
		assertThat(this.view.find("s-")).isEmpty();
		assertThat(this.view.find("c-x-1")).isEmpty();
		assertThat(this.view.find("s-1x")).isEmpty();
	}

	@Test
	void aQueryNeedsALimitAndACursorThatIsANumber() {
		assertThatIllegalArgumentException().isThrownBy(() -> ConnectionQuery.first(0));
		assertThatIllegalArgumentException().isThrownBy(() -> query(-1, 1));
	}

	private ConnectionRecord open(String host) {
		return this.tracker.connectionOpened(new InetSocketAddress(host, this.port++),
				new InetSocketAddress("127.0.0.1", 9090));
	}

	private static ConnectionQuery query(long after, int limit) {
		return new ConnectionQuery(after, limit, Set.of(), null, null, null, null);
	}

	private static ConnectionQuery filtered(@Nullable String remote, @Nullable String userAgent,
			@Nullable Duration minAge, @Nullable Duration minIdle) {
		return new ConnectionQuery(0, 1000, Set.of(), remote, userAgent, minAge, minIdle);
	}

	private static ConnectionQuery states(ConnectionState first, ConnectionState... others) {
		return new ConnectionQuery(0, 1000, EnumSet.of(first, others), null, null, null, null);
	}

	private List<String> ids(ConnectionQuery query) {
		return this.view.openConnections(query).stream().map(ConnectionSnapshot::id).toList();
	}

	private static long number(String id) {
		return Long.parseLong(id.substring("s-".length()));
	}

	private void advance(Duration duration) {
		this.now.addAndGet(duration.toNanos());
	}

}
