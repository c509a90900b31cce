package dev.grpckeepalive.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A TCP proxy on loopback that adds latency: every byte is forwarded, in order, a fixed delay
 * after it arrived, in each direction, as a long path would. Nothing is dropped; the round
 * trip through it grows by twice the delay.
 */
public final class DelayingTcpProxy implements AutoCloseable {

	private final ServerSocket listener;

	private final int upstreamPort;

	private final long delayNanos;

	private final List<Socket> sockets = new CopyOnWriteArrayList<>();

	public DelayingTcpProxy(int upstreamPort, Duration oneWayDelay) throws IOException {
		this.upstreamPort = upstreamPort;
		this.delayNanos = oneWayDelay.toNanos();
		this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		daemon("delay-proxy-accept", this::acceptLoop);
	}

	/** A gRPC target that reaches the upstream server through this proxy. */
	public String target() {
		return "127.0.0.1:" + this.listener.getLocalPort();
	}

	private void acceptLoop() {
		try {
			while (!this.listener.isClosed()) {
				Socket downstream = this.listener.accept();
				Socket upstream = new Socket(InetAddress.getLoopbackAddress(), this.upstreamPort);
				downstream.setTcpNoDelay(true);
				upstream.setTcpNoDelay(true);
				this.sockets.add(downstream);
				this.sockets.add(upstream);
				pipe(downstream, upstream);
				pipe(upstream, downstream);
			}
		}
		catch (IOException ex) {
			// closed
		}
	}

	private void pipe(Socket from, Socket to) {
		BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
		daemon("delay-proxy-read", () -> {
			byte[] buffer = new byte[16384];
			try (InputStream in = from.getInputStream()) {
				int read;
				while ((read = in.read(buffer)) >= 0) {
					queue.add(new Chunk(System.nanoTime() + this.delayNanos, Arrays.copyOf(buffer, read)));
				}
			}
			catch (IOException ex) {
				// closed
			}
			queue.add(new Chunk(System.nanoTime() + this.delayNanos, null));
		});
		daemon("delay-proxy-write", () -> {
			try (OutputStream out = to.getOutputStream()) {
				while (true) {
					Chunk chunk = queue.take();
					long wait = chunk.dueNanos() - System.nanoTime();
					if (wait > 0) {
						Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
					}
					if (chunk.bytes() == null) {
						to.shutdownOutput();
						return;
					}
					out.write(chunk.bytes());
					out.flush();
				}
			}
			catch (IOException | InterruptedException ex) {
				// closed
			}
		});
	}

	private static void daemon(String name, Runnable task) {
		Thread thread = new Thread(task, name);
		thread.setDaemon(true);
		thread.start();
	}

	@Override
	public void close() throws IOException {
		this.listener.close();
		for (Socket socket : this.sockets) {
			socket.close();
		}
	}

	private record Chunk(long dueNanos, byte[] bytes) {
	}

}
