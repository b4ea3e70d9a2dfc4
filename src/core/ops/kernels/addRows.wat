;; A broadcast sum for the wasm backend: out[r, j] = x[r, j] + y[j] for a
;; row-major float32 x [rows, n] and y [n], in the backend's own memory (pointers
;; in bytes): a bias added to every position, attention's mask added to every
;; head's scores. tfjs's Add walks a broadcast element by element, computing each
;; one's source index; this adds 16 floats at a time, then 4, then one by one.
;; One rounding per sum, as any float32 add: the same numbers as tfjs's.
;; `scale`: out[i] = x[i] * s for n floats, one rounding each (tfjs's Multiply
;; by a scalar: attention's q by 1/sqrt(hd), kernels/attention.ts).
;; Built into addRowsWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))
  (func (export "addRows") (param $x i32) (param $y i32) (param $out i32) (param $rows i32) (param $n i32)
    (local $j i32) (local $xp i32) (local $op i32) (local $yp i32) (local $nb i32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.eqz (local.get $rows)))
        (local.set $xp (local.get $x))
        (local.set $op (local.get $out))
        (local.set $yp (local.get $y))
        (local.set $j (local.get $n))
        (block $wide_done
          (loop $wide
            (br_if $wide_done (i32.lt_u (local.get $j) (i32.const 16)))
            (v128.store offset=0 align=4 (local.get $op) (f32x4.add (v128.load offset=0 align=4 (local.get $xp)) (v128.load offset=0 align=4 (local.get $yp))))
            (v128.store offset=16 align=4 (local.get $op) (f32x4.add (v128.load offset=16 align=4 (local.get $xp)) (v128.load offset=16 align=4 (local.get $yp))))
            (v128.store offset=32 align=4 (local.get $op) (f32x4.add (v128.load offset=32 align=4 (local.get $xp)) (v128.load offset=32 align=4 (local.get $yp))))
            (v128.store offset=48 align=4 (local.get $op) (f32x4.add (v128.load offset=48 align=4 (local.get $xp)) (v128.load offset=48 align=4 (local.get $yp))))
            (local.set $xp (i32.add (local.get $xp) (i32.const 64)))
            (local.set $op (i32.add (local.get $op) (i32.const 64)))
            (local.set $yp (i32.add (local.get $yp) (i32.const 64)))
            (local.set $j (i32.sub (local.get $j) (i32.const 16)))
            (br $wide)))
        (block $four_done
          (loop $four
            (br_if $four_done (i32.lt_u (local.get $j) (i32.const 4)))
            (v128.store align=4 (local.get $op) (f32x4.add (v128.load align=4 (local.get $xp)) (v128.load align=4 (local.get $yp))))
            (local.set $xp (i32.add (local.get $xp) (i32.const 16)))
            (local.set $op (i32.add (local.get $op) (i32.const 16)))
            (local.set $yp (i32.add (local.get $yp) (i32.const 16)))
            (local.set $j (i32.sub (local.get $j) (i32.const 4)))
            (br $four)))
        (block $one_done
          (loop $one
            (br_if $one_done (i32.eqz (local.get $j)))
            (f32.store (local.get $op) (f32.add (f32.load (local.get $xp)) (f32.load (local.get $yp))))
            (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
            (local.set $op (i32.add (local.get $op) (i32.const 4)))
            (local.set $yp (i32.add (local.get $yp) (i32.const 4)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $one)))
        (local.set $x (i32.add (local.get $x) (local.get $nb)))
        (local.set $out (i32.add (local.get $out) (local.get $nb)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $rows))))
  (func (export "scale") (param $x i32) (param $out i32) (param $n i32) (param $s f32)
    (local $sv v128)
    (local.set $sv (f32x4.splat (local.get $s)))
    (block $four_done
      (loop $four
        (br_if $four_done (i32.lt_u (local.get $n) (i32.const 4)))
        (v128.store align=4 (local.get $out) (f32x4.mul (v128.load align=4 (local.get $x)) (local.get $sv)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $n (i32.sub (local.get $n) (i32.const 4)))
        (br $four)))
    (block $one_done
      (loop $one
        (br_if $one_done (i32.eqz (local.get $n)))
        (f32.store (local.get $out) (f32.mul (f32.load (local.get $x)) (local.get $s)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $one)))))
