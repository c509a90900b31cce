package dev.grpckeepalive.client;

import io.grpc.ManagedChannel;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;

/**
 * A configured channel with its settings and the tracker of its connections.
 *
 * @param settings the channel's validated settings
 * @param channel the grpc-java channel, or {@code null} for a channel Spring Boot created (companion mode)
 * @param connections the channel's connections: open, recently closed, and totals
 */
public record TrackedChannel(ChannelKeepAliveSettings settings, @Nullable ManagedChannel channel,
		ConnectionTracker connections) {
}
