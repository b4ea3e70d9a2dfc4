;; Attention's softmax over the last axis, for the wasm backend: y = softmax(x +
;; mask) per row of x [rows, n] (float32, in the backend's own memory, pointers
;; in bytes), and its gradient dx = y (dy - sum(dy y)). tfjs takes a kernel to
;; add the mask, one for the softmax and four for its gradient, each a pass over
;; the scores; these are three passes over a row forward (the masked maximum,
;; the exponentials and their sum, the division) and two backward.
;;
;; Row r of x is row (r / $ht) * $bstride + (r % $t) * $ton of the mask (the
;; mask's [B or 1, 1, T or 1, n] against x's [B, H, T, n]); no mask where $mask
;; is 0. exp as in gelu.wat (2^k exp(r), Cephes's polynomial), and exactly 0
;; below -87, where float32's exp underflows: masked columns get 0, as tfjs
;; gives them.
;; Built into softmaxWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))

  ;; exp(t), four at a time (0 where t < -87).
  (func $exp (param $t v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128) (local $c v128)
    (local.set $c (f32x4.pmin (f32x4.pmax (local.get $t) (v128.const f32x4 -87 -87 -87 -87)) (v128.const f32x4 88 88 88 88)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $c) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $p (i32x4.shl (i32x4.sub (local.get $k) (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000)) (i32.const 23)))
    (local.set $k (f32x4.sub (local.get $k) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $r (f32x4.sub (local.get $c) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $k (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $k (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $r) (local.get $r)) (local.get $k)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (v128.and (i32x4.add (local.get $k) (local.get $p)) (f32x4.ge (local.get $t) (v128.const f32x4 -87 -87 -87 -87))))

  ;; Rows $first .. $end-1 of x (x and y the whole tensors' addresses).
  (func (export "softmax") (param $x i32) (param $mask i32) (param $y i32) (param $first i32) (param $end i32) (param $n i32)
    (param $ht i32) (param $t i32) (param $bstride i32) (param $ton i32)
    (local $r i32) (local $j i32) (local $nb i32) (local $n4 i32) (local $xr i32) (local $mr i32) (local $yr i32)
    (local $v v128) (local $mx v128) (local $acc v128) (local $m f32) (local $s f32) (local $e f32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $r (local.get $first))
    (block $done
      (loop $each_row
        (br_if $done (i32.ge_u (local.get $r) (local.get $end)))
        (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $nb))))
        (local.set $yr (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $nb))))
        (local.set $mr (i32.const 0))
        (if (local.get $mask)
          (then (local.set $mr (i32.add (local.get $mask) (i32.mul (local.get $nb)
            (i32.add (i32.mul (i32.div_u (local.get $r) (local.get $ht)) (local.get $bstride)) (i32.mul (i32.rem_u (local.get $r) (local.get $t)) (local.get $ton))))))))
        ;; z = x + mask into y, and its maximum
        (local.set $mx (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $j (i32.const 0))
        (block $z4_done (loop $z4
          (br_if $z4_done (i32.ge_u (local.get $j) (local.get $n4)))
          (local.set $v (v128.load align=4 (i32.add (local.get $xr) (local.get $j))))
          (if (local.get $mr) (then (local.set $v (f32x4.add (local.get $v) (v128.load align=4 (i32.add (local.get $mr) (local.get $j)))))))
          (v128.store align=4 (i32.add (local.get $yr) (local.get $j)) (local.get $v))
          (local.set $mx (f32x4.max (local.get $mx) (local.get $v)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $z4)))
        (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx))) (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
        (block $z1_done (loop $z1
          (br_if $z1_done (i32.ge_u (local.get $j) (local.get $nb)))
          (local.set $e (f32.load (i32.add (local.get $xr) (local.get $j))))
          (if (local.get $mr) (then (local.set $e (f32.add (local.get $e) (f32.load (i32.add (local.get $mr) (local.get $j)))))))
          (f32.store (i32.add (local.get $yr) (local.get $j)) (local.get $e))
          (local.set $m (f32.max (local.get $m) (local.get $e)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $z1)))
        ;; exp(z - max) and its sum
        (local.set $mx (f32x4.splat (local.get $m)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $e4_done (loop $e4
          (br_if $e4_done (i32.ge_u (local.get $j) (local.get $n4)))
          (local.set $v (call $exp (f32x4.sub (v128.load align=4 (i32.add (local.get $yr) (local.get $j))) (local.get $mx))))
          (v128.store align=4 (i32.add (local.get $yr) (local.get $j)) (local.get $v))
          (local.set $acc (f32x4.add (local.get $acc) (local.get $v)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $e4)))
        (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc))) (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $e1_done (loop $e1
          (br_if $e1_done (i32.ge_u (local.get $j) (local.get $nb)))
          (local.set $e (f32x4.extract_lane 0 (call $exp (f32x4.sub (v128.load32_splat align=4 (i32.add (local.get $yr) (local.get $j))) (local.get $mx)))))
          (f32.store (i32.add (local.get $yr) (local.get $j)) (local.get $e))
          (local.set $s (f32.add (local.get $s) (local.get $e)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $e1)))
        ;; divided by the sum
        (local.set $acc (f32x4.splat (local.get $s)))
        (local.set $j (i32.const 0))
        (block $d4_done (loop $d4
          (br_if $d4_done (i32.ge_u (local.get $j) (local.get $n4)))
          (v128.store align=4 (i32.add (local.get $yr) (local.get $j)) (f32x4.div (v128.load align=4 (i32.add (local.get $yr) (local.get $j))) (local.get $acc)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $d4)))
        (block $d1_done (loop $d1
          (br_if $d1_done (i32.ge_u (local.get $j) (local.get $nb)))
          (f32.store (i32.add (local.get $yr) (local.get $j)) (f32.div (f32.load (i32.add (local.get $yr) (local.get $j))) (local.get $s)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $d1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row))))

  ;; dx = y (dy - sum(dy y)), row by row.
  (func (export "softmaxGrad") (param $dy i32) (param $y i32) (param $dx i32) (param $rows i32) (param $n i32)
    (local $r i32) (local $j i32) (local $nb i32) (local $n4 i32) (local $o i32)
    (local $acc v128) (local $s f32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $each_row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $o (i32.mul (local.get $r) (local.get $nb)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $s4_done (loop $s4
          (br_if $s4_done (i32.ge_u (local.get $j) (local.get $n4)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load align=4 (i32.add (local.get $dy) (i32.add (local.get $o) (local.get $j)))) (v128.load align=4 (i32.add (local.get $y) (i32.add (local.get $o) (local.get $j)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $s4)))
        (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc))) (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $s1_done (loop $s1
          (br_if $s1_done (i32.ge_u (local.get $j) (local.get $nb)))
          (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (i32.add (local.get $dy) (i32.add (local.get $o) (local.get $j)))) (f32.load (i32.add (local.get $y) (i32.add (local.get $o) (local.get $j)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $s1)))
        (local.set $acc (f32x4.splat (local.get $s)))
        (local.set $j (i32.const 0))
        (block $g4_done (loop $g4
          (br_if $g4_done (i32.ge_u (local.get $j) (local.get $n4)))
          (v128.store align=4 (i32.add (local.get $dx) (i32.add (local.get $o) (local.get $j)))
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y) (i32.add (local.get $o) (local.get $j))))
              (f32x4.sub (v128.load align=4 (i32.add (local.get $dy) (i32.add (local.get $o) (local.get $j)))) (local.get $acc))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $g4)))
        (block $g1_done (loop $g1
          (br_if $g1_done (i32.ge_u (local.get $j) (local.get $nb)))
          (f32.store (i32.add (local.get $dx) (i32.add (local.get $o) (local.get $j)))
            (f32.mul (f32.load (i32.add (local.get $y) (i32.add (local.get $o) (local.get $j))))
              (f32.sub (f32.load (i32.add (local.get $dy) (i32.add (local.get $o) (local.get $j)))) (local.get $s))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $g1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row))))
)
