package dev.grpckeepalive.connection;

import java.time.Duration;

/**
 * The silence (no HTTP/2 frame in either direction) a connection ended with, as its frame
 * observer measured it, for the keepalive advisor's idle-path findings. Only silences of at
 * least a second are kept.
 *
 * @param nanos how long the silence lasted: up to the close, or, when {@code afterWrite},
 * up to this side's write that ended it
 * @param afterWrite whether this side wrote after the silence and the connection died before
 * the peer answered: a reset on the first write, or a keepalive PING that timed out
 * @param withCalls whether calls were in flight through the whole silence (server: on this
 * connection; client: on the channel, which counts calls per channel)
 */
public record SilenceBeforeClose(long nanos, boolean afterWrite, boolean withCalls) {

	/** The silence as a duration. */
	public Duration duration() {
		return Duration.ofNanos(this.nanos);
	}

	/**
	 * What the frame observer measured about a connection's last silence, asked for when the
	 * connection's record closes (grpc-java's transport filter can close it before the
	 * observer sees the channel go inactive).
	 */
	@FunctionalInterface
	public interface Probe {

		/**
		 * The silence the connection ended with, or {@code null} when it was shorter than a second.
		 * @param record the connection closing
		 * @param nowNanos when it closed, on the tracker's ticker
		 * @param reason why it closed
		 */
		@org.jspecify.annotations.Nullable SilenceBeforeClose at(ConnectionRecord record, long nowNanos,
				CloseReason reason);

	}

}
