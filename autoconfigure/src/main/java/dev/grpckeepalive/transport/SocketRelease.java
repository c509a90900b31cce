package dev.grpckeepalive.transport;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;

import dev.grpckeepalive.connection.ConnectionRecord;

/**
 * Makes sure the socket of a connection that failed its keepalive is released. grpc-java
 * 1.84 cancels the calls and sends a GOAWAY, but its close is graceful: the kernel keeps the
 * socket (in FIN_WAIT1) and its unsent bytes for as long as the peer's receive window stays
 * shut, which a stopped peer's kernel keeps answering for, and where the GOAWAY cannot be
 * written grpc-java waits for an HTTP/2 shutdown a dead peer never completes.
 * {@code SO_LINGER 0} makes every close of the connection abortive (RST, buffers dropped)
 * from then on; and if grpc-java has not closed the channel {@link #CLOSE_DELAY} later, it
 * is closed here. No state: nothing per connection.
 */
final class SocketRelease {

	/** How long grpc-java gets to close a connection itself after its keepalive-timeout GOAWAY. */
	static final Duration CLOSE_DELAY = Duration.ofSeconds(1);

	private SocketRelease() {
	}

	/**
	 * Releases the socket of {@code channel}, whose keepalive PING timed out; on its event loop.
	 * @param channel the connection
	 * @param record its record, told that the starter released the socket
	 */
	static void afterKeepAliveTimeout(Channel channel, ConnectionRecord record) {
		channel.config().setOption(ChannelOption.SO_LINGER, 0);
		record.socketReleasedByStarter();
		channel.eventLoop().schedule(() -> closeNow(channel), CLOSE_DELAY.toMillis(), TimeUnit.MILLISECONDS);
	}

	/**
	 * Closes {@code channel} straight at the transport, if still open: through the pipeline,
	 * grpc-java's handler would turn the close into another graceful shutdown, and an
	 * SslHandler would wait for close_notify.
	 */
	static void closeNow(Channel channel) {
		if (channel.isOpen()) {
			channel.unsafe().close(channel.voidPromise());
		}
	}

}
