package dev.grpckeepalive.client;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import org.jspecify.annotations.Nullable;

/**
 * A channel whose target names a property that exists only once the application runs, such
 * as {@code 127.0.0.1:${local.grpc.port}} for a server on port 0: the channel bean must exist
 * before the server has bound its port, so the grpc-java channel is built, with the target
 * resolved, on first use (a call, {@link #authority()}, or {@code getState(true)}). Until then
 * it is IDLE, as any channel that has not connected yet. Shut down before its first use, it
 * builds a channel that is shut down at once, so that calls fail as on any shut-down channel.
 */
final class DeferredChannel extends ManagedChannel {

	private final Supplier<ManagedChannel> factory;

	private volatile @Nullable ManagedChannel delegate;

	private volatile boolean shutdown;

	DeferredChannel(Supplier<ManagedChannel> factory) {
		this.factory = factory;
	}

	private ManagedChannel delegate() {
		ManagedChannel channel = this.delegate;
		if (channel == null) {
			synchronized (this) {
				channel = this.delegate;
				if (channel == null) {
					channel = this.factory.get();
					if (this.shutdown) {
						channel.shutdownNow();
					}
					this.delegate = channel;
				}
			}
		}
		return channel;
	}

	@Override
	public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
		return delegate().newCall(method, options);
	}

	@Override
	public String authority() {
		return delegate().authority();
	}

	@Override
	public synchronized ManagedChannel shutdown() {
		this.shutdown = true;
		ManagedChannel channel = this.delegate;
		if (channel != null) {
			channel.shutdown();
		}
		return this;
	}

	@Override
	public synchronized ManagedChannel shutdownNow() {
		this.shutdown = true;
		ManagedChannel channel = this.delegate;
		if (channel != null) {
			channel.shutdownNow();
		}
		return this;
	}

	@Override
	public boolean isShutdown() {
		return this.shutdown;
	}

	@Override
	public boolean isTerminated() {
		ManagedChannel channel = this.delegate;
		return (channel != null) ? channel.isTerminated() : this.shutdown;
	}

	@Override
	public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
		ManagedChannel channel = this.delegate;
		return (channel != null) ? channel.awaitTermination(timeout, unit) : this.shutdown;
	}

	@Override
	public ConnectivityState getState(boolean requestConnection) {
		ManagedChannel channel = this.delegate;
		if (channel == null && !requestConnection) {
			return this.shutdown ? ConnectivityState.SHUTDOWN : ConnectivityState.IDLE;
		}
		return delegate().getState(requestConnection);
	}

	@Override
	public void notifyWhenStateChanged(ConnectivityState source, Runnable callback) {
		delegate().notifyWhenStateChanged(source, callback);
	}

	@Override
	public void resetConnectBackoff() {
		ManagedChannel channel = this.delegate;
		if (channel != null) {
			channel.resetConnectBackoff();
		}
	}

	@Override
	public void enterIdle() {
		ManagedChannel channel = this.delegate;
		if (channel != null) {
			channel.enterIdle();
		}
	}

	@Override
	public String toString() {
		ManagedChannel channel = this.delegate;
		return "DeferredChannel[" + ((channel != null) ? channel : "not built yet") + "]";
	}

}
