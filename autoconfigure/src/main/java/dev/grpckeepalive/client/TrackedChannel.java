package dev.grpckeepalive.client;

import io.grpc.ManagedChannel;

import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;

/**
 * A configured channel with its settings and the tracker of its connections.
 *
 * @param settings the channel's validated settings
 * @param channel the grpc-java channel
 * @param connections the channel's connections: open, recently closed, and totals
 */
public record TrackedChannel(ChannelKeepAliveSettings settings, ManagedChannel channel,
		ConnectionTracker connections) {
}
