;; GELU as the transformer takes it, x * sigmoid(1.702 x), forward and backward,
;; for the wasm backend, on n floats (float32, in the backend's own memory,
;; pointers in bytes). tfjs composes it from 3 kernels forward (a product, a
;; sigmoid, a product) and 6 backward, each a pass over memory; these are one
;; pass each. The backward pass works sigmoid out again from x rather than keep
;; it: one pass over x costs less than storing and reading n more floats.
;;
;; exp(t) = 2^k exp(r), k = round(t / ln 2), r = t - k ln 2 (ln 2 in two parts,
;; so r is exact to float32), exp(r) by Cephes's degree-7 polynomial (relative
;; error under 2e-7 on |r| <= ln 2 / 2); t is clamped to [-87, 88], where 2^k
;; stays a normal float32.
;; Built into geluWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))

  ;; sigmoid(z) = 1 / (1 + exp(-z)), four at a time. k is rounded by adding
  ;; 1.5 * 2^23, whose float then holds k in its low bits (to nearest, ties to
  ;; even, as f32x4.nearest would), so 2^k is those bits shifted into place.
  (func $sigmoid (param $z v128) (result v128)
    (local $t v128) (local $k v128) (local $r v128) (local $p v128)
    (local.set $t (f32x4.pmin (f32x4.pmax (f32x4.neg (local.get $z)) (v128.const f32x4 -87 -87 -87 -87)) (v128.const f32x4 88 88 88 88)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $t) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $p (i32x4.shl (i32x4.sub (local.get $k) (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000)) (i32.const 23)))
    (local.set $k (f32x4.sub (local.get $k) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $r (f32x4.sub (local.get $t) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $k (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    ;; exp(r) = 1 + r + r^2 p, times 2^k: k added to the exponent's bits
    (local.set $k (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $r) (local.get $r)) (local.get $k)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (i32x4.add (local.get $k) (local.get $p)))))

  ;; y = x * sigmoid(1.702 x), four at a time; the last n mod 4 alike, one by one.
  (func (export "gelu") (param $x i32) (param $y i32) (param $n i32)
    (local $end i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load align=4 (local.get $x)))
        (v128.store align=4 (local.get $y) (f32x4.mul (local.get $v) (call $sigmoid (f32x4.mul (local.get $v) (v128.const f32x4 1.702 1.702 1.702 1.702)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))
        (br $four)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load32_splat align=4 (local.get $x)))
        (f32.store (local.get $y) (f32x4.extract_lane 0 (f32x4.mul (local.get $v) (call $sigmoid (f32x4.mul (local.get $v) (v128.const f32x4 1.702 1.702 1.702 1.702))))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (br $tail))))

  ;; dx = dy * (s + 1.702 x s (1 - s)), s = sigmoid(1.702 x).
  (func $grad4 (param $dy v128) (param $x v128) (result v128)
    (local $s v128)
    (local.set $s (call $sigmoid (f32x4.mul (local.get $x) (v128.const f32x4 1.702 1.702 1.702 1.702))))
    (f32x4.mul (local.get $dy)
      (f32x4.add (local.get $s)
        (f32x4.mul (f32x4.mul (f32x4.mul (local.get $x) (v128.const f32x4 1.702 1.702 1.702 1.702)) (local.get $s))
          (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get $s))))))

  (func (export "geluGrad") (param $dy i32) (param $x i32) (param $dx i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $four
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store align=4 (local.get $dx) (call $grad4 (v128.load align=4 (local.get $dy)) (v128.load align=4 (local.get $x))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
        (br $four)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $x) (local.get $end)))
        (f32.store (local.get $dx) (f32x4.extract_lane 0 (call $grad4 (v128.load32_splat align=4 (local.get $dy)) (v128.load32_splat align=4 (local.get $x)))))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 4)))
        (br $tail))))
)
