package dev.grpckeepalive.transport;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;

import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.ConnectionRecord;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.Side;

import static org.assertj.core.api.Assertions.assertThat;

/** The socket release after a keepalive timeout, on an EmbeddedChannel whose time moves only when told. */
class SocketReleaseTests {

	private final ConnectionTracker tracker = new ConnectionTracker(Side.SERVER, "server", null, null, () -> 0L,
			Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), ConnectionTracker.DEFAULT_HISTORY_SIZE);

	@Test
	void theChannelIsClosedExactlyTheDelayLaterIfGrpcJavaHasNotClosedIt() {
		EmbeddedChannel channel = new EmbeddedChannel();
		channel.freezeTime();
		ConnectionRecord record = this.tracker.connectionOpened(null, null);

		SocketRelease.afterKeepAliveTimeout(channel, record);

		assertThat(this.tracker.view().find(record.displayId()))
			.hasValueSatisfying((connection) -> assertThat(connection.socketReleasedByStarter()).isTrue());
		channel.advanceTimeBy(SocketRelease.CLOSE_DELAY.toMillis() - 1, TimeUnit.MILLISECONDS);
		channel.runScheduledPendingTasks();
		assertThat(channel.isOpen()).isTrue();
		channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
		channel.runScheduledPendingTasks();
		assertThat(channel.isOpen()).isFalse();
	}

	@Test
	void aChannelClosedMeanwhileIsLeftAlone() {
		EmbeddedChannel channel = new EmbeddedChannel();
		channel.freezeTime();
		SocketRelease.afterKeepAliveTimeout(channel, this.tracker.connectionOpened(null, null));
		channel.close();

		channel.advanceTimeBy(SocketRelease.CLOSE_DELAY.toMillis(), TimeUnit.MILLISECONDS);
		channel.runScheduledPendingTasks();

		channel.checkException();
		assertThat(channel.isOpen()).isFalse();
	}

}
