package dev.grpckeepalive.client;

import io.grpc.ManagedChannel;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;

/**
 * A channel whose connections this starter tracks, with its settings and its connections,
 * read-only.
 */
public final class TrackedChannel {

	private final ChannelKeepAliveSettings settings;

	private final @Nullable ManagedChannel channel;

	private final ConnectionTracker tracker;

	/**
	 * A tracked channel.
	 * @param settings the channel's validated settings
	 * @param channel the grpc-java channel, or {@code null} for a channel Spring Boot created (companion mode)
	 * @param tracker where the channel's connections are recorded
	 */
	public TrackedChannel(ChannelKeepAliveSettings settings, @Nullable ManagedChannel channel,
			ConnectionTracker tracker) {
		this.settings = settings;
		this.channel = channel;
		this.tracker = tracker;
	}

	/** The channel's validated settings, requested and effective. */
	public ChannelKeepAliveSettings settings() {
		return this.settings;
	}

	/** The grpc-java channel, or {@code null} for a channel Spring Boot created (companion mode). */
	public @Nullable ManagedChannel channel() {
		return this.channel;
	}

	/** The channel's connections: open, recently closed, and totals. */
	public ConnectionTrackerView connections() {
		return this.tracker.view();
	}

	ConnectionTracker tracker() {
		return this.tracker;
	}

}
