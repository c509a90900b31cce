package dev.grpckeepalive.transport;

import java.time.Duration;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.ServerLimitSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTracking;
import dev.grpckeepalive.connection.UserAgentCapture;

/**
 * Puts connection tracking on a grpc-java builder: the transport filter, the call counter,
 * and the frame observer when there is a transport for it. The one place that does so for
 * this starter's own server and channels and for Spring Boot's in companion mode.
 */
public final class ConnectionInstrumentation {

	private ConnectionInstrumentation() {
	}

	/**
	 * Instruments a server builder.
	 * @param builder the builder
	 * @param tracker where the server's connections are recorded
	 * @param transport the event loops with the frame observer, or {@code null} when frames are not observed
	 * @param keepAliveTimeout the server's effective keepalive timeout
	 * @param limits the abuse limits the frame observer's transport enforces (connection cap,
	 * frame floods), or {@code null} for none
	 */
	public static void install(NettyServerBuilder builder, ConnectionTracker tracker,
			@Nullable FrameObservingTransport transport, Duration keepAliveTimeout, @Nullable ServerLimitSettings limits) {
		install(builder, tracker, transport, keepAliveTimeout, limits, false);
	}

	/**
	 * Instruments a server builder that may listen on a Unix domain socket.
	 * @param builder the builder
	 * @param tracker where the server's connections are recorded
	 * @param transport the event loops with the frame observer, or {@code null} when frames are not observed
	 * @param keepAliveTimeout the server's effective keepalive timeout
	 * @param limits the abuse limits the frame observer's transport enforces (connection cap,
	 * frame floods), or {@code null} for none
	 * @param domainSocket whether the server listens on a Unix domain socket
	 */
	public static void install(NettyServerBuilder builder, ConnectionTracker tracker,
			@Nullable FrameObservingTransport transport, Duration keepAliveTimeout, @Nullable ServerLimitSettings limits,
			boolean domainSocket) {
		ConnectionTracking.install(builder, tracker);
		if (transport != null) {
			// names the clients whose calls go to unknown methods, which interceptors never see
			builder.addStreamTracerFactory(UserAgentCapture.INSTANCE);
			transport.applyTo(builder, tracker, keepAliveTimeout, limits, domainSocket);
		}
	}

	/**
	 * Instruments a channel builder.
	 * @param builder the builder
	 * @param tracker where the channel's connections are recorded
	 * @param transport the event loops with the frame observer, or {@code null} when frames are not observed
	 * @param keepAliveTimeout the channel's effective keepalive timeout
	 */
	public static void install(NettyChannelBuilder builder, ConnectionTracker tracker,
			@Nullable FrameObservingTransport transport, Duration keepAliveTimeout) {
		install(builder, tracker, transport, keepAliveTimeout, false);
	}

	/**
	 * Instruments a channel builder that may connect to a Unix domain socket.
	 * @param builder the builder
	 * @param tracker where the channel's connections are recorded
	 * @param transport the event loops with the frame observer, or {@code null} when frames are not observed
	 * @param keepAliveTimeout the channel's effective keepalive timeout
	 * @param domainSocket whether the channel connects to a Unix domain socket
	 */
	public static void install(NettyChannelBuilder builder, ConnectionTracker tracker,
			@Nullable FrameObservingTransport transport, Duration keepAliveTimeout, boolean domainSocket) {
		ConnectionTracking.install(builder, tracker);
		if (transport != null) {
			transport.applyTo(builder, tracker, keepAliveTimeout, domainSocket);
		}
	}

}
