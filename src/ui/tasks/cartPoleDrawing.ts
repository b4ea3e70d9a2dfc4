import { HALF_POLE, X_LIMIT } from '../../core/tasks/cartpole.ts';

/**
 * Draws CartPole at one state [x, x_dot, theta, theta_dot] on a canvas: the
 * track (its ends at the 2.4 m limit), the cart, and the pole at its angle
 * (theta > 0 leans right), scaled to the canvas.
 */
export function drawCartPole(ctx: CanvasRenderingContext2D, state: readonly number[], failed = false): void {
  const { width, height } = ctx.canvas;
  const scale = width / (2 * X_LIMIT + 0.6); // pixels per metre, a margin beyond each limit
  const cx = width / 2 + state[0] * scale;
  const trackY = height * 0.78;
  ctx.clearRect(0, 0, width, height);
  // Track and its limits.
  ctx.strokeStyle = '#9ca3af';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(width / 2 - X_LIMIT * scale, trackY);
  ctx.lineTo(width / 2 + X_LIMIT * scale, trackY);
  ctx.stroke();
  ctx.fillStyle = '#dc2626';
  for (const side of [-1, 1]) ctx.fillRect(width / 2 + side * X_LIMIT * scale - 1, trackY - 8, 2, 16);
  // Cart.
  const cartW = 0.5 * scale;
  const cartH = 0.3 * scale;
  ctx.fillStyle = failed ? '#9ca3af' : '#1f2937';
  ctx.fillRect(cx - cartW / 2, trackY - cartH, cartW, cartH);
  // Pole: 2 x HALF_POLE metres long, from the top of the cart.
  const length = 2 * HALF_POLE * scale;
  const baseY = trackY - cartH;
  ctx.strokeStyle = failed ? '#dc2626' : '#d97706';
  ctx.lineWidth = Math.max(3, 0.06 * scale);
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(cx, baseY);
  ctx.lineTo(cx + Math.sin(state[2]) * length, baseY - Math.cos(state[2]) * length);
  ctx.stroke();
  ctx.fillStyle = '#4b5563';
  ctx.beginPath();
  ctx.arc(cx, baseY, Math.max(2, 0.04 * scale), 0, 2 * Math.PI);
  ctx.fill();
}
