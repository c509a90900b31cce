package dev.grpckeepalive.client;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.grpc.ManagedChannel;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;

/**
 * The channels configured under {@code grpc.keepalive.client.channels}, by name. Each is
 * also a {@link ManagedChannel} bean qualified by its name; both hand out the same
 * instance. Channels are shut down when the application context closes, after the server
 * has drained, so that calls the server makes downstream while draining still work.
 */
public class GrpcChannels implements DisposableBean, TrackedChannels {

	/** How long channels get to finish in-flight calls on context close before they are cancelled. */
	static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);

	private static final Log logger = LogFactory.getLog(GrpcChannels.class);

	private final Map<String, TrackedChannel> tracked;

	private final Map<String, ManagedChannel> channels;

	private final @Nullable AutoCloseable transport;

	GrpcChannels(Map<String, TrackedChannel> tracked, @Nullable AutoCloseable transport) {
		this.tracked = Collections.unmodifiableMap(new LinkedHashMap<>(tracked));
		Map<String, ManagedChannel> channels = new LinkedHashMap<>();
		tracked.forEach((name, channel) -> channels.put(name, channel.channel()));
		this.channels = Collections.unmodifiableMap(channels);
		this.transport = transport;
	}

	/**
	 * The channel of the given name.
	 * @param name the key under {@code grpc.keepalive.client.channels}
	 * @return the channel
	 * @throws UnknownGrpcChannelException if no channel of that name is configured
	 */
	public ManagedChannel get(String name) {
		ManagedChannel channel = this.channels.get(name);
		if (channel == null) {
			throw new UnknownGrpcChannelException(name, names());
		}
		return channel;
	}

	/** The names of the configured channels, in configuration order. */
	public Set<String> names() {
		return this.channels.keySet();
	}

	/** The channels by name, in configuration order. */
	public Map<String, ManagedChannel> asMap() {
		return this.channels;
	}

	/** The channels with their settings and connection trackers, by name, in configuration order. */
	@Override
	public Map<String, TrackedChannel> tracked() {
		return this.tracked;
	}

	@Override
	public void destroy() throws Exception {
		this.tracked.values().forEach((channel) -> channel.tracker().shutdown().start());
		this.channels.values().forEach(ManagedChannel::shutdown);
		long deadline = System.nanoTime() + SHUTDOWN_GRACE.toNanos();
		for (Map.Entry<String, ManagedChannel> entry : this.channels.entrySet()) {
			ManagedChannel channel = entry.getValue();
			if (!channel.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
				logger.warn("gRPC channel '" + entry.getKey() + "' still had calls running " + SHUTDOWN_GRACE.toSeconds()
						+ "s after shutdown; cancelling them");
				channel.shutdownNow();
			}
		}
		if (this.transport != null) {
			this.transport.close();
		}
	}

}
