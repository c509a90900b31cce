package dev.grpckeepalive.connection;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

/**
 * Puts a tracker's transport filter and call counter on a grpc-java builder: what records a
 * connection's life and its calls, with or without the frame observer. The filters and
 * counters stay package-private; this is the one way in.
 */
public final class ConnectionTracking {

	private ConnectionTracking() {
	}

	/**
	 * Tracks a server's connections and calls.
	 * @param builder the server builder
	 * @param tracker where the server's connections are recorded
	 */
	public static void install(NettyServerBuilder builder, ConnectionTracker tracker) {
		builder.addTransportFilter(new ServerConnectionFilter(tracker));
		builder.intercept(new ServerCallCounter());
	}

	/**
	 * Tracks a channel's connections and calls.
	 * @param builder the channel builder
	 * @param tracker where the channel's connections are recorded
	 */
	public static void install(NettyChannelBuilder builder, ConnectionTracker tracker) {
		builder.addTransportFilter(new ClientConnectionFilter(tracker));
		builder.intercept(new ClientCallCounter(tracker));
	}

}
