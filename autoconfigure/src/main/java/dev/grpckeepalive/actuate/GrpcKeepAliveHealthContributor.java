package dev.grpckeepalive.actuate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.client.TrackedChannel;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthContributor;

/**
 * The {@code grpcKeepalive} health contributor: {@code server}, and one entry per channel,
 * looked up on every health request so that channels created after startup appear too.
 */
final class GrpcKeepAliveHealthContributor implements CompositeHealthContributor {

	private static final String SERVER = "server";

	private final @Nullable ObservedGrpcServer server;

	private final List<TrackedChannels> channels;

	private final Duration window;

	GrpcKeepAliveHealthContributor(@Nullable ObservedGrpcServer server, List<TrackedChannels> channels,
			Duration window) {
		this.server = server;
		this.channels = List.copyOf(channels);
		this.window = window;
	}

	@Override
	public @Nullable HealthContributor getContributor(String name) {
		if (SERVER.equals(name)) {
			return (this.server != null) ? new ServerHealthIndicator(this.server, this.window) : null;
		}
		TrackedChannel channel = channels().get(name);
		return (channel != null) ? new ChannelHealthIndicator(channel, this.window) : null;
	}

	@Override
	public Stream<Entry> stream() {
		List<Entry> entries = new ArrayList<>();
		if (this.server != null) {
			entries.add(new Entry(SERVER, new ServerHealthIndicator(this.server, this.window)));
		}
		channels().forEach((name, channel) -> entries.add(new Entry(name, new ChannelHealthIndicator(channel, this.window))));
		return entries.stream();
	}

	private Map<String, TrackedChannel> channels() {
		return TrackedChannels.all(this.channels);
	}

}
