package dev.grpckeepalive.advisor;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.client.TrackedChannel;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextRefreshedEvent;

/**
 * Puts the advisor's watches on the server's and the channels' trackers before the server
 * starts (and on channels created later as they appear), and checks the configuration once
 * the server listens. The frame observers judge client PINGs by the policy the server's
 * tracker was made with.
 */
final class AdvisorInstaller implements SmartInitializingSingleton, ApplicationListener<ContextRefreshedEvent> {

	private final KeepAliveAdvisor advisor;

	private final @Nullable ObservedGrpcServer server;

	private final List<TrackedChannels> channels;

	private final ConfigurationCheck configuration;

	private final AtomicBoolean checked = new AtomicBoolean();

	AdvisorInstaller(KeepAliveAdvisor advisor, @Nullable ObservedGrpcServer server, List<TrackedChannels> channels) {
		this.advisor = advisor;
		this.server = server;
		this.channels = List.copyOf(channels);
		this.configuration = new ConfigurationCheck(advisor);
	}

	@Override
	public void afterSingletonsInstantiated() {
		if (this.server != null) {
			ServerKeepAliveSettings settings = this.server.getSettings();
			ConnectionTrackerView tracker = this.server.getConnections();
			tracker.addListener(new ServerPingWatch(this.advisor, settings));
			if (settings.time().isEnabled()) {
				tracker.addListener(new RoundTripWatch(this.advisor, settings.timeout()));
			}
			tracker.addListener(IdlePathWatch.server(this.advisor, settings.time()));
			tracker.addListener(new GraceWatch(this.advisor, settings));
			tracker.addListener(new AbuseWatch(this.advisor, settings.limits()));
		}
		for (TrackedChannels source : this.channels) {
			source.tracked().values().forEach(this::watch);
			source.onNewChannel((channel) -> {
				watch(channel);
				check(channel);
			});
		}
	}

	private void watch(TrackedChannel channel) {
		ConnectionTrackerView tracker = channel.connections();
		tracker.addListener(new ChannelPingWatch(this.advisor, channel.settings()));
		if (channel.settings().time().isEnabled()) {
			tracker.addListener(new RoundTripWatch(this.advisor, channel.settings().timeout()));
		}
		tracker.addListener(IdlePathWatch.channel(this.advisor, channel.settings().time(),
				channel.settings().propertyPrefix(), channel.settings().withoutCalls()));
	}

	@Override
	public void onApplicationEvent(ContextRefreshedEvent event) {
		if (!this.checked.compareAndSet(false, true)) {
			return;
		}
		if (this.server != null) {
			this.configuration.checkServer(this.server.getSettings());
		}
		TrackedChannels.all(this.channels).values().forEach(this::check);
	}

	private void check(TrackedChannel channel) {
		ServerKeepAliveSettings settings = (this.server != null) ? this.server.getSettings() : null;
		int port = (this.server != null && this.server.isRunning()) ? this.server.getPort() : -1;
		this.configuration.checkChannel(channel.settings(), settings, port);
	}

}
