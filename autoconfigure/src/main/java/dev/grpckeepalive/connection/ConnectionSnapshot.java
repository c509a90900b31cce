package dev.grpckeepalive.connection;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * One connection at one moment, read consistently: every figure is taken at the same instant,
 * so that {@code 0 <= idle <= age}, and a closed connection always has its close reason and
 * close time.
 *
 * @param id the id as the endpoint shows it: {@code s-42} for the server,
 * {@code c-<channel>-42} for a channel
 * @param side the server's connections or a channel's
 * @param channel the channel name, or {@code server}
 * @param remote the peer's address, if known
 * @param local this side's address, if known
 * @param openedAtMillis when it opened, epoch milliseconds
 * @param ageNanos its age: up to now while open, up to the close once closed
 * @param idleNanos how long it has been without calls, {@code 0} while calls are in flight
 * (server connections; a channel counts calls per channel)
 * @param activeCalls calls in flight on it (server connections)
 * @param totalCalls calls it carried (server connections)
 * @param state where it is in its life
 * @param observed whether a frame observer watches it, so that PING and GOAWAY figures are meaningful
 * @param observerOffReason why the frame observer gave up on it, if it did
 * @param pings its PING figures
 * @param lastGoAwaySent the last GOAWAY this side sent on it
 * @param lastGoAwayReceived the last GOAWAY the peer sent on it
 * @param socketReleasedByStarter whether the starter made the close abortive after a keepalive timeout
 * @param abuseLimit the HTTP/2 abuse limit that closed it (close reason {@code abuse}), such as
 * {@code max-settings-frames}, or {@code null}
 * @param closeReason why it closed, {@code null} while open
 * @param closedAtMillis when it closed, epoch milliseconds, {@code null} while open
 * @param silenceBeforeClose the silence (no frame either way, a second or more) it ended with,
 * as the frame observer measured it; {@code null} while open, without an observer, or when
 * frames came up to the close
 * @param unfinishedCallsAtClose the ages of the server calls still in flight, not closed by the
 * application, when it closed: the calls the close cut; empty while open and for channels
 */
public record ConnectionSnapshot(String id, Side side, String channel, @Nullable SocketAddress remote,
		@Nullable SocketAddress local, long openedAtMillis, long ageNanos, long idleNanos, int activeCalls,
		long totalCalls, ConnectionState state, boolean observed, @Nullable String observerOffReason,
		PingStatistics.Snapshot pings, @Nullable GoAway lastGoAwaySent, @Nullable GoAway lastGoAwayReceived,
		boolean socketReleasedByStarter, @Nullable String abuseLimit, @Nullable CloseReason closeReason, @Nullable Long closedAtMillis,
		@Nullable SilenceBeforeClose silenceBeforeClose, List<Duration> unfinishedCallsAtClose) {

	public ConnectionSnapshot {
		unfinishedCallsAtClose = List.copyOf(unfinishedCallsAtClose);
	}

	/** Whether the connection is closed. */
	public boolean isClosed() {
		return this.closeReason != null;
	}

	/** The age as a duration. */
	public Duration age() {
		return Duration.ofNanos(this.ageNanos);
	}

	/** The time without calls as a duration. */
	public Duration idle() {
		return Duration.ofNanos(this.idleNanos);
	}

}
